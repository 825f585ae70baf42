import ICAL from 'ical.js';
import type { EventTime } from '../../domain/event-time.ts';
import { checkEventTime } from '../../domain/event-time.ts';
import {
  addDays,
  formatUtc,
  isDateOnly,
  isLocalDateTime,
  isValidTimeZone,
  zonedToUtc,
} from '../../domain/time.ts';
import { SourceError } from '../../domain/source.ts';
import { quote } from './read-icalendar.ts';
import { windowsZones } from './windows-zones.ts';

/** What reading a time needs from the calendar around it. */
export interface TimeContext {
  /** The calendar's VTIMEZONE definitions by TZID. */
  readonly timezones: ReadonlyMap<string, ICAL.Timezone>;
  /** The IANA zone given to floating times (no TZID, no Z); see parse-calendar.ts. */
  readonly floatingTimeZone: string;
}

/** ical.js's jCal form of a DATE-TIME value; a date written without VALUE=DATE parses as `YYYY-MM-DDT::`. */
const jcalDateTime = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z?$/;
const bareDate = /^(\d{4}-\d{2}-\d{2})T::$/;

function malformed(owner: string, prop: ICAL.Property, why: string): SourceError {
  return new SourceError(
    'malformed',
    `${owner}: ${prop.name.toUpperCase()} ${why} (${quote(lineOf(prop))})`,
  );
}

function lineOf(prop: ICAL.Property): string {
  try {
    return prop.toICALString();
  } catch {
    return JSON.stringify(prop.jCal);
  }
}

/**
 * Zone names as read, to their IANA spelling or null. A formatter costs tens of
 * microseconds to build and a feed names the same few zones on every event; bounded, as the
 * names come from outside.
 */
const canonicalZones = new Map<string, string | null>();

/** The IANA spelling of a zone name Intl accepts in any case (`europe/paris` → `Europe/Paris`). */
function canonicalZone(zone: string): string | undefined {
  let canonical = canonicalZones.get(zone);
  if (canonical === undefined) {
    canonical = isValidTimeZone(zone)
      ? new Intl.DateTimeFormat('en-US', { timeZone: zone }).resolvedOptions().timeZone
      : null;
    if (canonicalZones.size > 1000) canonicalZones.clear();
    canonicalZones.set(zone, canonical);
  }
  return canonical ?? undefined;
}

/**
 * The IANA zone a TZID names, if any: the TZID itself (`Europe/Paris`), a known product
 * prefix dropped (`/mozilla.org/20050126_1/Europe/Paris`), or a Windows zone name.
 * `direct` is false for the last two: the caller checks them against the VTIMEZONE.
 */
export function ianaZoneOf(tzid: string): { zone: string; direct: boolean } | undefined {
  const direct = canonicalZone(tzid);
  if (direct) return { zone: direct, direct: true };
  const segments = tzid.split('/');
  for (let i = 1; i < segments.length - 1; i++) {
    const zone = canonicalZone(segments.slice(i).join('/'));
    if (zone) return { zone, direct: false };
  }
  const windows = windowsZones.get(tzid.trim());
  return windows ? { zone: windows, direct: false } : undefined;
}

/** The UTC instant of a wall-clock time under a VTIMEZONE definition. */
function definedInstant(local: string, zone: ICAL.Timezone): number {
  const time = ICAL.Time.fromDateTimeString(local);
  time.zone = zone;
  return time.toUnixTime() * 1000;
}

function zonedTime(local: string, tzid: string, ctx: TimeContext): EventTime | undefined {
  const definition = ctx.timezones.get(tzid);
  const iana = ianaZoneOf(tzid);
  if (iana?.direct) return { dateTime: local, timeZone: iana.zone };
  const defined = definition ? definedInstant(local, definition) : undefined;
  // A guessed zone must agree with the calendar's own definition at this time.
  if (iana && (defined === undefined || zonedToUtc(local, iana.zone) === defined)) {
    return { dateTime: local, timeZone: iana.zone };
  }
  return defined === undefined ? undefined : { dateTime: formatUtc(defined) };
}

/**
 * Reads a DATE or DATE-TIME property (DTSTART, DTEND, RECURRENCE-ID) as calpush's EventTime:
 * a DATE → `{date}`; UTC → `{dateTime: '…Z'}`; a TZID that is or maps to an IANA zone →
 * `{dateTime, timeZone}`; another TZID → UTC through its VTIMEZONE; floating → the context's
 * floating zone. Throws `malformed`, naming `owner` and the line, when the value is unusable.
 */
export function eventTimeOf(prop: ICAL.Property, ctx: TimeContext, owner: string): EventTime {
  const raw: unknown = prop.jCal[3];
  if (typeof raw !== 'string') throw malformed(owner, prop, 'has no single value');
  const date = prop.type === 'date' ? raw : bareDate.exec(raw)?.[1];
  if (date !== undefined) {
    if (!isDateOnly(date)) throw malformed(owner, prop, 'is not a valid date');
    return { date };
  }
  if (prop.type !== 'date-time' || !jcalDateTime.test(raw)) {
    throw malformed(owner, prop, 'is not a date or date-time');
  }
  const utc = raw.endsWith('Z');
  const local = utc ? raw.slice(0, -1) : raw;
  if (!isLocalDateTime(local)) throw malformed(owner, prop, 'is not a valid date-time');
  if (utc) return { dateTime: raw };
  const tzid = prop.getFirstParameter('tzid');
  if (!tzid) return { dateTime: local, timeZone: ctx.floatingTimeZone };
  let time: EventTime | undefined;
  try {
    time = zonedTime(local, tzid, ctx);
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    throw malformed(owner, prop, `has a TZID whose VTIMEZONE cannot be read: ${why}`);
  }
  if (!time) {
    throw malformed(
      owner,
      prop,
      `has TZID ${quote(tzid)}, neither an IANA zone nor defined by a VTIMEZONE here`,
    );
  }
  const checked = checkEventTime(time);
  if ('problem' in checked) throw malformed(owner, prop, checked.problem);
  return time;
}

/** A time's instant; the time was checked when read. */
function instant(time: EventTime): number {
  const checked = checkEventTime(time);
  return 'instant' in checked ? checked.instant : Number.NaN;
}

/**
 * Start plus an iCalendar DURATION: days and weeks move the date (nominal), hours, minutes
 * and seconds the clock. A zoned time moves on its wall clock, so a duration that spans a DST
 * change ends an hour off; a DATE start takes whole days (a part day counts as one).
 */
function shifted(start: EventTime, duration: ICAL.Duration): EventTime {
  const sign = duration.isNegative ? -1 : 1;
  const days = duration.weeks * 7 + duration.days;
  const seconds = duration.hours * 3600 + duration.minutes * 60 + duration.seconds;
  if ('date' in start)
    return { date: addDays(start.date, sign * (days + Math.ceil(seconds / 86400))) };
  const utc = start.dateTime.endsWith('Z');
  const wall = Date.parse(utc ? start.dateTime : `${start.dateTime}Z`);
  const moved = new Date(wall + sign * (days * 86400 + seconds) * 1000).toISOString().slice(0, 19);
  return utc ? { dateTime: `${moved}Z` } : { ...start, dateTime: moved };
}

/** The end when DTEND and DURATION say nothing usable: the next day, or the start itself. */
function defaultEnd(start: EventTime): EventTime {
  return 'date' in start ? { date: addDays(start.date, 1) } : start;
}

/** Is `end` a usable end for `start`: the same kind, not before it? */
function fits(start: EventTime, end: EventTime): boolean {
  return 'date' in start === 'date' in end && instant(end) >= instant(start);
}

/**
 * A VEVENT's end from DTEND, else DURATION, else the default. An end of the other kind (a
 * DATE for a DATE-TIME start) or before the start is repaired to the default rather than
 * failing the whole calendar: the event is still readable from its start.
 */
export function eventEndOf(
  event: ICAL.Component,
  start: EventTime,
  ctx: TimeContext,
  owner: string,
): EventTime {
  const dtend = event.getFirstProperty('dtend');
  if (dtend) {
    const end = eventTimeOf(dtend, ctx, owner);
    return fits(start, end) ? end : defaultEnd(start);
  }
  const durationProp = event.getFirstProperty('duration');
  if (durationProp) {
    const raw: unknown = durationProp.jCal[3];
    let duration: ICAL.Duration;
    try {
      duration = ICAL.Duration.fromString(String(raw));
    } catch {
      throw malformed(owner, durationProp, 'is not a duration');
    }
    const end = shifted(start, duration);
    const checked = checkEventTime(end);
    if ('problem' in checked)
      throw malformed(owner, durationProp, `ends unusably: ${checked.problem}`);
    return fits(start, end) ? end : defaultEnd(start);
  }
  return defaultEnd(start);
}
