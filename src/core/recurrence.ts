import ICAL from 'ical.js';
import type { EventTime } from '../domain/event-time.ts';
import { instantOf } from '../domain/event-time.ts';
import { isZonedDateTime, wallClockIn, zonedToUtc } from '../domain/time.ts';

/**
 * A series' occurrences, expanded the way RFC 5545 means them: the rule runs on the wall
 * clock of the series' own time zone (a 09:00 stand-up stays at 09:00 across daylight-saving
 * changes), then each local start becomes an instant. ical.js computes the rule (every FREQ,
 * BYxxx, COUNT, UNTIL, WKST) on floating times, so no VTIMEZONE is needed for IANA zones;
 * RDATE adds and EXDATE removes occurrences. Only the window asked for is returned, so an
 * infinite series costs what its window holds (plus the walk from its start).
 */

export interface Series {
  readonly start: EventTime;
  readonly end: EventTime;
  /** RRULE, RDATE and EXDATE lines as iCalendar writes them. */
  readonly recurrence: readonly string[];
}

export interface Occurrence {
  /** The occurrence's start as the rule made it: what an exception names it by. */
  readonly originalStart: EventTime;
  readonly start: EventTime;
  readonly end: EventTime;
  readonly startAt: number;
  readonly endAt: number;
}

export class RecurrenceError extends Error {
  override name = 'RecurrenceError';
}

/** Steps a walk through a rule may take before it gives up (a daily rule over ~270 years). */
const MAX_STEPS = 100_000;

interface Anchor {
  /** Floating wall time of the series' start, in its zone. */
  readonly local: ICAL.Time;
  /** The zone the wall times are in; null for UTC and all-day series. */
  readonly zone: string | null;
  readonly allDay: boolean;
}

const pad = (n: number, width = 2) => String(n).padStart(width, '0');

function anchorOf(start: EventTime): Anchor {
  if ('date' in start) {
    const [y, m, d] = start.date.split('-').map(Number);
    return {
      local: ICAL.Time.fromData({ year: y ?? 0, month: m ?? 1, day: d ?? 1, isDate: true }),
      zone: null,
      allDay: true,
    };
  }
  const zone = start.timeZone ?? null;
  // An instant with an offset runs on its zone's clock when it has one, else on UTC's.
  const [y, mo, d, h, mi, s] = isZonedDateTime(start.dateTime)
    ? wallClockIn(Date.parse(start.dateTime), zone ?? 'Etc/UTC')
    : (start.dateTime.match(/\d+/g) ?? []).map(Number);
  return {
    local: ICAL.Time.fromData({
      year: y ?? 0,
      month: mo ?? 1,
      day: d ?? 1,
      hour: h ?? 0,
      minute: mi ?? 0,
      second: s ?? 0,
    }),
    zone,
    allDay: false,
  };
}

function localText(t: ICAL.Time, allDay: boolean): string {
  const date = `${pad(t.year, 4)}-${pad(t.month)}-${pad(t.day)}`;
  return allDay ? date : `${date}T${pad(t.hour)}:${pad(t.minute)}:${pad(t.second)}`;
}

/** The instant a floating wall time of the series stands for. */
function instantOfLocal(anchor: Anchor, t: ICAL.Time): number {
  const text = localText(t, anchor.allDay);
  if (anchor.allDay) return Date.parse(`${text}T00:00:00Z`);
  return zonedToUtc(text, anchor.zone ?? 'Etc/UTC');
}

function boundaryOf(anchor: Anchor, t: ICAL.Time, startAt: number): EventTime {
  const text = localText(t, anchor.allDay);
  if (anchor.allDay) return { date: text };
  if (anchor.zone === null)
    return { dateTime: new Date(startAt).toISOString().replace('.000Z', 'Z') };
  return { dateTime: text, timeZone: anchor.zone };
}

interface Line {
  readonly name: string;
  readonly params: ReadonlyMap<string, string>;
  readonly value: string;
}

function parseLine(line: string): Line {
  const colon = line.indexOf(':');
  if (colon < 0) throw new RecurrenceError(`not an iCalendar line: ${line}`);
  const [name = '', ...params] = line.slice(0, colon).split(';');
  return {
    name: name.toUpperCase(),
    params: new Map(
      params.map((p) => {
        const [k = '', v = ''] = p.split('=');
        return [k.toUpperCase(), v];
      }),
    ),
    value: line.slice(colon + 1),
  };
}

/** An RDATE/EXDATE value as an instant, read as iCalendar reads it. */
function instantOfValue(anchor: Anchor, value: string, tzid: string | undefined): number {
  const m = /^(\d{4})(\d{2})(\d{2})(?:T(\d{2})(\d{2})(\d{2})(Z)?)?$/.exec(value);
  if (!m) throw new RecurrenceError(`not a date or date-time: ${value}`);
  const date = `${m[1]}-${m[2]}-${m[3]}`;
  if (m[4] === undefined) return Date.parse(`${date}T00:00:00Z`);
  const local = `${date}T${m[4]}:${m[5]}:${m[6]}`;
  if (m[7] === 'Z') return Date.parse(`${local}Z`);
  return zonedToUtc(local, tzid ?? anchor.zone ?? 'Etc/UTC');
}

/**
 * An RRULE for the floating walk. A UTC UNTIL is an instant (RFC 5545 asks for UTC when the
 * start has a zone): it becomes the series' wall time at that instant, so the walk compares
 * like with like.
 */
function ruleOf(anchor: Anchor, value: string): ICAL.Recur {
  let rule: ICAL.Recur;
  try {
    rule = ICAL.Recur.fromString(value);
  } catch (err) {
    throw new RecurrenceError(
      `bad RRULE ${value}: ${err instanceof Error ? err.message : String(err)}`,
    );
  }
  if (!rule.freq) throw new RecurrenceError(`bad RRULE ${value}: no FREQ`);
  const until = rule.until;
  if (
    until &&
    !until.isDate &&
    anchor.zone !== null &&
    /Z$/i.test(value.match(/UNTIL=([^;]+)/i)?.[1] ?? '')
  ) {
    rule.until = localTimeAt(anchor, until.toUnixTime() * 1000);
  }
  return rule;
}

/** Throws RecurrenceError naming what is wrong with a series' recurrence lines. */
export function checkRecurrence(series: Series): void {
  expandSeries(series, { from: 0, to: 0 });
}

/** The occurrences of a series that overlap [from, to), in start order. */
export function expandSeries(series: Series, window: { from: number; to: number }): Occurrence[] {
  const anchor = anchorOf(series.start);
  const durationMs = instantOf(series.end) - instantOf(series.start);
  const rules: ICAL.Recur[] = [];
  const exclusionRules: ICAL.Recur[] = [];
  const added: number[] = [];
  const excluded = new Set<number>();
  for (const raw of series.recurrence) {
    const line = parseLine(raw);
    const tzid = line.params.get('TZID');
    const values = line.value.split(',');
    switch (line.name) {
      case 'RRULE':
        rules.push(ruleOf(anchor, line.value));
        break;
      case 'EXRULE':
        // Deprecated by RFC 5545 but still written (and accepted by Google): it removes
        // the starts it makes.
        exclusionRules.push(ruleOf(anchor, line.value));
        break;
      case 'RDATE':
        for (const v of values) added.push(instantOfValue(anchor, v, tzid));
        break;
      case 'EXDATE':
        for (const v of values) excluded.add(instantOfValue(anchor, v, tzid));
        break;
      default:
        throw new RecurrenceError(`unknown recurrence line ${line.name}`);
    }
  }
  const starts = new Set<number>();
  const firstAt = instantOfLocal(anchor, anchor.local);
  starts.add(firstAt);
  for (const rule of rules) {
    for (const at of walk(anchor, rule, window.to)) {
      if (at + durationMs > window.from || durationMs === 0) starts.add(at);
    }
  }
  for (const at of added) starts.add(at);
  for (const rule of exclusionRules) {
    for (const at of walk(anchor, rule, window.to)) excluded.add(at);
  }
  const out: Occurrence[] = [];
  for (const startAt of [...starts].sort((a, b) => a - b)) {
    if (excluded.has(startAt)) continue;
    const endAt = startAt + durationMs;
    const overlaps = endAt > window.from || (durationMs === 0 && startAt >= window.from);
    if (startAt >= window.to || !overlaps) continue;
    const local = localTimeAt(anchor, startAt);
    const start = boundaryOf(anchor, local, startAt);
    out.push({
      originalStart: start,
      start,
      end: endOf(anchor, start, endAt),
      startAt,
      endAt,
    });
  }
  return out;
}

/** The starts a rule makes from the series' start, before `to`. */
function* walk(anchor: Anchor, rule: ICAL.Recur, to: number): Generator<number> {
  const it = rule.iterator(anchor.local);
  for (let step = 0; step < MAX_STEPS; step++) {
    const next = it.next();
    if (!next) return;
    const at = instantOfLocal(anchor, next);
    if (at >= to) return;
    yield at;
  }
}

/** The series' wall time at an instant (RDATEs come as instants). */
function localTimeAt(anchor: Anchor, at: number): ICAL.Time {
  if (anchor.allDay) {
    const d = new Date(at);
    return ICAL.Time.fromData({
      year: d.getUTCFullYear(),
      month: d.getUTCMonth() + 1,
      day: d.getUTCDate(),
      isDate: true,
    });
  }
  const [y, mo, d, h, mi, s] = wallClockIn(at, anchor.zone ?? 'Etc/UTC');
  return ICAL.Time.fromData({ year: y, month: mo, day: d, hour: h, minute: mi, second: s });
}

/** An occurrence's end, on the same clock as its start. */
function endOf(anchor: Anchor, start: EventTime, endAt: number): EventTime {
  if ('date' in start) return { date: new Date(endAt).toISOString().slice(0, 10) };
  if (anchor.zone === null)
    return { dateTime: new Date(endAt).toISOString().replace('.000Z', 'Z') };
  const [y, mo, d, h, mi, s] = wallClockIn(endAt, anchor.zone);
  const zone = anchor.zone;
  return {
    dateTime: `${pad(y ?? 0, 4)}-${pad(mo ?? 1)}-${pad(d ?? 1)}T${pad(h ?? 0)}:${pad(mi ?? 0)}:${pad(s ?? 0)}`,
    timeZone: zone,
  };
}
