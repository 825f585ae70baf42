import ICAL from 'ical.js';
import type { SourceEvent, SourceItem } from '../../domain/source.ts';
import { SourceError } from '../../domain/source.ts';
import type { TimeContext } from './event-times.ts';
import { eventEndOf, eventTimeOf, ianaZoneOf } from './event-times.ts';
import { quote, readCalendars } from './read-icalendar.ts';

/**
 * iCalendar text → calpush's SourceItem: every VEVENT of one object (a series, its
 * RECURRENCE-ID overrides, or a single event). VTODO, VJOURNAL and the rest are skipped.
 *
 * Floating times (no TZID, no Z) get a zone, because calpush checks every local time against
 * one (`checkEventTime`) and would refuse the write otherwise: the zone the caller gives,
 * else the calendar's X-WR-TIMEZONE, else Etc/UTC. So a floating 09:00 stays 09:00 on the
 * wall clock of the calendar's zone.
 *
 * Anything that makes an event unreadable (no UID, no DTSTART, a date that does not exist, a
 * TZID that is neither an IANA zone nor defined by a VTIMEZONE) throws SourceError
 * `malformed` naming the UID and the line. A readable but inconsistent end (before the
 * start, or a DATE end for a timed start) is repaired to the default end instead.
 */

export interface ParseOptions {
  /** The zone for floating times; when absent or unknown: X-WR-TIMEZONE, else Etc/UTC. */
  readonly floatingTimeZone?: string | undefined;
}

export const defaultFloatingTimeZone = 'Etc/UTC';

/** Parses one object (a CalDAV resource) into a SourceItem with the given key and version. */
export function parseItem(
  ics: string,
  key: string,
  version: string,
  options: ParseOptions = {},
): SourceItem {
  return itemOf(readCalendars(ics), key, version, options);
}

/**
 * The events of parsed VCALENDARs. Two VEVENTs with the same UID and RECURRENCE-ID (some
 * feeds repeat one) are one event: the higher SEQUENCE wins, then the later one.
 */
export function itemOf(
  calendars: readonly ICAL.Component[],
  key: string,
  version: string,
  options: ParseOptions = {},
): SourceItem {
  const found = new Map<string, { event: SourceEvent; sequence: number }>();
  for (const calendar of calendars) {
    const ctx = contextOf(calendar, options);
    for (const vevent of calendar.getAllSubcomponents('vevent')) {
      const read = eventOf(vevent, ctx);
      const id = `${read.event.icalUid}\n${JSON.stringify(read.event.recurrenceId)}`;
      const kept = found.get(id);
      if (!kept || read.sequence >= kept.sequence) found.set(id, read);
    }
  }
  return { key, version, events: [...found.values()].map((read) => read.event) };
}

/** The IANA zone a calendar's X-WR-TIMEZONE names, or null. */
export function calendarZoneOf(calendar: ICAL.Component): string | null {
  const value = textOf(calendar, 'x-wr-timezone');
  return (value && ianaZoneOf(value.trim())?.zone) ?? null;
}

/**
 * Does a VTIMEZONE define anything? ical.js reads one without a STANDARD or DAYLIGHT that has
 * DTSTART and TZOFFSETTO as UTC, silently; calpush treats it as no definition at all.
 */
function definesOffsets(vtimezone: ICAL.Component): boolean {
  return vtimezone
    .getAllSubcomponents()
    .some(
      (rule) =>
        (rule.name === 'standard' || rule.name === 'daylight') &&
        rule.hasProperty('dtstart') &&
        rule.hasProperty('tzoffsetto'),
    );
}

function contextOf(calendar: ICAL.Component, options: ParseOptions): TimeContext {
  const timezones = new Map<string, ICAL.Timezone>();
  for (const vtimezone of calendar.getAllSubcomponents('vtimezone')) {
    const tzid = textOf(vtimezone, 'tzid');
    if (tzid && !timezones.has(tzid) && definesOffsets(vtimezone)) {
      timezones.set(tzid, new ICAL.Timezone(vtimezone));
    }
  }
  const given = options.floatingTimeZone && ianaZoneOf(options.floatingTimeZone)?.zone;
  return {
    timezones,
    floatingTimeZone: given || (calendarZoneOf(calendar) ?? defaultFloatingTimeZone),
  };
}

/** A property's single text (or number) value; null when absent. */
export function textOf(component: ICAL.Component, name: string): string | null {
  const value: unknown = component.getFirstProperty(name)?.jCal[3];
  if (typeof value === 'number') return String(value);
  return typeof value === 'string' ? value : null;
}

const statuses = {
  CONFIRMED: 'confirmed',
  TENTATIVE: 'tentative',
  CANCELLED: 'cancelled',
} as const;

function statusOf(vevent: ICAL.Component): SourceEvent['status'] {
  const value = textOf(vevent, 'status')?.trim().toUpperCase();
  return (value && statuses[value as keyof typeof statuses]) || 'confirmed';
}

const recurrenceProperties = new Set(['rrule', 'rdate', 'exdate', 'exrule']);

/** A recurrence line; a rule read as text (read-icalendar.ts) comes out as the feed wrote it. */
function recurrenceLine(prop: ICAL.Property): string {
  // The raw jCal value: asking ical.js for the value would read a rule, and may throw.
  const raw: unknown = prop.jCal[3];
  if (prop.type === 'text' && typeof raw === 'string') return `${prop.name.toUpperCase()}:${raw}`;
  return prop.toICALString();
}

/** A series' RRULE, RDATE, EXDATE (and EXRULE) lines as iCalendar writes them; null if none. */
function recurrenceOf(vevent: ICAL.Component): string[] | null {
  const lines = vevent
    .getAllProperties()
    .filter((prop) => recurrenceProperties.has(prop.name))
    .map(recurrenceLine);
  return lines.length > 0 ? lines : null;
}

/** Enough of a VEVENT without a UID to find it in the text. */
function describe(vevent: ICAL.Component): string {
  const parts = ['summary', 'dtstart']
    .map((name) => vevent.getFirstProperty(name)?.toICALString())
    .filter((line) => line !== undefined);
  return parts.length > 0 ? parts.map((line) => quote(line)).join(', ') : 'no SUMMARY or DTSTART';
}

function eventOf(
  vevent: ICAL.Component,
  ctx: TimeContext,
): { event: SourceEvent; sequence: number } {
  const uid = textOf(vevent, 'uid');
  if (!uid) throw new SourceError('malformed', `a VEVENT has no UID (${describe(vevent)})`);
  const owner = `VEVENT ${quote(uid)}`;
  const ridProp = vevent.getFirstProperty('recurrence-id');
  const recurrenceId = ridProp ? eventTimeOf(ridProp, ctx, owner) : null;
  const dtstart = vevent.getFirstProperty('dtstart');
  if (!dtstart) {
    const which = ridProp ? ` (${quote(ridProp.toICALString())})` : '';
    throw new SourceError('malformed', `${owner}${which} has no DTSTART`);
  }
  const start = eventTimeOf(dtstart, ctx, owner);
  const event: SourceEvent = {
    icalUid: uid,
    recurrenceId,
    summary: textOf(vevent, 'summary'),
    description: textOf(vevent, 'description'),
    location: textOf(vevent, 'location'),
    start,
    end: eventEndOf(vevent, start, ctx, owner),
    status: statusOf(vevent),
    recurrence: recurrenceId ? null : recurrenceOf(vevent),
  };
  return { event, sequence: Number(textOf(vevent, 'sequence')) || 0 };
}
