import ICAL from 'ical.js';
import type { EventTime } from '../domain/event-time.ts';
import { FOREVER, instantOf } from '../domain/event-time.ts';
import { isZonedDateTime, wallClockIn, zonedToUtc } from '../domain/time.ts';
import { ruleStarts } from './rule-starts.ts';
import { cycleOf, cycleWalls } from './recurrence-cycles.ts';

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

/** A wall time's fields: ICAL.Time has them, and so does a plain record (cheaper to make). */
interface Wall {
  readonly year: number;
  readonly month: number;
  readonly day: number;
  readonly hour: number;
  readonly minute: number;
  readonly second: number;
}

function localText(t: Wall, allDay: boolean): string {
  const date = `${pad(t.year, 4)}-${pad(t.month)}-${pad(t.day)}`;
  return allDay ? date : `${date}T${pad(t.hour)}:${pad(t.minute)}:${pad(t.second)}`;
}

/** The instant a floating wall time of the series stands for. */
function instantOfLocal(anchor: Anchor, t: Wall): number {
  const text = localText(t, anchor.allDay);
  if (anchor.allDay) return Date.parse(`${text}T00:00:00Z`);
  return zonedToUtc(text, anchor.zone ?? 'Etc/UTC');
}

/** `+02:00`: how far a wall time is ahead of its instant, as RFC 3339 writes it. */
function offsetText(t: Wall, at: number): string {
  const minutes = Math.round((floating(t) - at) / 60_000);
  const sign = minutes < 0 ? '-' : '+';
  const abs = Math.abs(minutes);
  return `${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
}

/** An occurrence's boundary: a date, or its wall time with its offset and the series' zone. */
function boundaryOf(anchor: Anchor, t: Wall, at: number): EventTime {
  const text = localText(t, anchor.allDay);
  if (anchor.allDay) return { date: text };
  if (anchor.zone === null) return { dateTime: new Date(at).toISOString().replace('.000Z', 'Z') };
  return { dateTime: `${text}${offsetText(t, at)}`, timeZone: anchor.zone };
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
    rule.until = ICAL.Time.fromData(localTimeAt(anchor, until.toUnixTime() * 1000));
  }
  return rule;
}

/**
 * RFC 5545 §3.3.10: "The DTSTART property value always counts as the first occurrence" of a
 * COUNT. ical.js counts the starts that match the rule, so a DTSTART off the rule (§3.8.5.3
 * calls that set undefined, but DTSTART is still its first instance) would make COUNT + 1:
 * the rule is left one start fewer, or none (null).
 */
function countingDtstart(anchor: Anchor, rule: ICAL.Recur): ICAL.Recur | null {
  if (rule.count === null) return rule;
  const first = ruleStarts(rule, anchor.local.clone()).next();
  if (first !== null && first.compare(anchor.local) === 0) return rule;
  if (rule.count <= 1) return null;
  rule.count -= 1;
  return rule;
}

/** Throws RecurrenceError naming what is wrong with a series' recurrence lines. */
export function checkRecurrence(series: Series): void {
  expandSeries(series, { from: 0, to: 0 });
}

interface ParsedSeries {
  readonly anchor: Anchor;
  readonly durationMs: number;
  readonly rules: readonly ICAL.Recur[];
  readonly exclusionRules: readonly ICAL.Recur[];
  readonly added: readonly number[];
  readonly excluded: ReadonlySet<number>;
}

/** Parsed series by their text: a read expands the same series again and again. */
const parsedSeries = new Map<string, ParsedSeries>();
/** The same by object, for callers that keep their series: no text key to make. */
const parsedByObject = new WeakMap<Series, ParsedSeries>();

function parseSeries(series: Series): ParsedSeries {
  let parsed = parsedByObject.get(series);
  if (parsed !== undefined) return parsed;
  const key = JSON.stringify(series);
  parsed = parsedSeries.get(key);
  if (parsed === undefined) {
    parsed = parseSeriesText(series);
    if (parsedSeries.size >= 10_000) parsedSeries.clear();
    parsedSeries.set(key, parsed);
  }
  parsedByObject.set(series, parsed);
  return parsed;
}

function parseSeriesText(series: Series): ParsedSeries {
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
      case 'RRULE': {
        const rule = countingDtstart(anchor, ruleOf(anchor, line.value));
        if (rule !== null) rules.push(rule);
        break;
      }
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
  return { anchor, durationMs, rules, exclusionRules, added, excluded };
}

/**
 * Where an event's last occurrence ends, as `until_at` stores it: its own end when it does
 * not recur, FOREVER for a series that never ends or whose rules cannot be read (a source's:
 * reads then show its first occurrence).
 */
export function untilAt(
  event: { start: EventTime; end: EventTime; recurrence?: readonly string[] | null | undefined },
  endAt: number,
): number {
  if (!event.recurrence || event.recurrence.length === 0) return endAt;
  try {
    return (
      seriesEnd({ start: event.start, end: event.end, recurrence: event.recurrence }) ?? FOREVER
    );
  } catch (err) {
    if (!(err instanceof RecurrenceError)) throw err;
    return FOREVER;
  }
}

/**
 * The end of a series' last occurrence, or null when its rules never end. Stored beside the
 * series, it lets a range query find the series without expanding it.
 */
export function seriesEnd(series: Series): number | null {
  const parsed = parseSeries(series);
  if (parsed.rules.some((r) => r.count === null && r.until === null)) return null;
  let last = instantOfLocal(parsed.anchor, parsed.anchor.local);
  for (const rule of parsed.rules) {
    for (const at of walk(parsed.anchor, rule, { from: -Infinity, to: Infinity }, 0)) {
      last = Math.max(last, at);
    }
  }
  for (const at of parsed.added) last = Math.max(last, at);
  return last + parsed.durationMs;
}

export interface ExpandOptions {
  /** Only the first `limit` occurrences in the window (a page's worth). */
  readonly limit?: number | undefined;
  /**
   * Only occurrences that start at or after this: a page that goes on from a cursor, where
   * those that began earlier were on the pages before and must not use up `limit`.
   */
  readonly startsFrom?: number | undefined;
}

/** The occurrences of a series that overlap [from, to), in start order. */
export function expandSeries(
  series: Series,
  window: { from: number; to: number },
  options: ExpandOptions = {},
): Occurrence[] {
  const parsed = parseSeries(series);
  const { anchor, durationMs, excluded } = parsed;
  const startsFrom = options.startsFrom ?? -Infinity;
  const overlaps = (at: number) =>
    at >= startsFrom &&
    at < window.to &&
    (at + durationMs > window.from || (durationMs === 0 && at >= window.from));
  // Each rule gives at most this many starts: enough for `limit` once EXDATEs have struck.
  // An EXRULE may strike any number, so with one the walk is not cut short.
  const perRule =
    options.limit === undefined || parsed.exclusionRules.length > 0
      ? Infinity
      : options.limit + excluded.size + 1;
  const starts = new Set<number>();
  const firstAt = instantOfLocal(anchor, anchor.local);
  if (overlaps(firstAt)) starts.add(firstAt);
  for (const rule of parsed.rules) {
    let taken = 0;
    for (const at of walk(anchor, rule, window, durationMs)) {
      if (!overlaps(at)) continue;
      starts.add(at);
      if (++taken >= perRule) break;
    }
  }
  for (const at of parsed.added) if (overlaps(at)) starts.add(at);
  const struck = new Set(excluded);
  for (const rule of parsed.exclusionRules) {
    for (const at of walk(anchor, rule, window, durationMs)) struck.add(at);
  }
  const out: Occurrence[] = [];
  for (const startAt of [...starts].sort((a, b) => a - b)) {
    if (struck.has(startAt)) continue;
    if (options.limit !== undefined && out.length >= options.limit) break;
    const endAt = startAt + durationMs;
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

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/** How far a wall clock may be from UTC: instants lie within this of their wall time. */
const WEST = 12 * HOUR;
const EAST = 14 * HOUR;

/** A wall time as milliseconds on a clock without offsets: ordered as the wall times are. */
function floating(t: Wall): number {
  return Date.UTC(t.year, t.month - 1, t.day, t.hour, t.minute, t.second);
}

/**
 * Periods of the same length on the floating clock every time. Sub-daily ones matter most:
 * without a later start, an hourly series begun 12 years before the window would use up
 * MAX_STEPS before reaching it and show nothing.
 */
const FIXED_PERIODS: Readonly<Partial<Record<string, number>>> = {
  SECONDLY: 1000,
  MINUTELY: 60_000,
  HOURLY: HOUR,
  DAILY: DAY,
  WEEKLY: 7 * DAY,
};

/**
 * Where a walk may start instead of the series' start, so that a series begun years before
 * the window costs what the window holds. A rule without COUNT makes the same starts from any
 * start a whole number of its periods later; the new start itself lies wholly before the
 * window, so it is dropped with the other early starts even where it does not match the rule.
 * Months are only skipped from days 1–28, which every month has.
 */
function walkStart(anchor: Anchor, rule: ICAL.Recur, from: number, durationMs: number): ICAL.Time {
  const start = anchor.local;
  if (rule.count !== null || !Number.isFinite(from)) return start;
  const target = from - durationMs - EAST - DAY;
  const interval = Math.max(1, rule.interval || 1);
  const jumped = start.clone();
  const unit = FIXED_PERIODS[rule.freq];
  if (unit !== undefined) {
    const period = unit * interval;
    const k = Math.floor((target - floating(start)) / period);
    if (k < 1) return start;
    const skipped = k * period;
    jumped.adjust(Math.floor(skipped / DAY), 0, 0, (skipped % DAY) / 1000);
    return jumped;
  }
  if (rule.freq === 'MONTHLY' || rule.freq === 'YEARLY') {
    if (start.day > 28) return start;
    const t = new Date(target);
    const months = (t.getUTCFullYear() - start.year) * 12 + (t.getUTCMonth() + 1 - start.month) - 1;
    const step = (rule.freq === 'MONTHLY' ? 1 : 12) * interval;
    const k = Math.floor(months / step);
    if (k < 1) return start;
    const month0 = start.month - 1 + k * step;
    jumped.year = start.year + Math.floor(month0 / 12);
    jumped.month = (month0 % 12) + 1;
    return jumped;
  }
  return start;
}

/** Whole periods of a DAILY or WEEKLY rule that a walk skips, as `walkStart` counts them. */
function periodsBefore(anchor: Anchor, period: number, from: number, durationMs: number): number {
  return Math.floor((from - durationMs - EAST - DAY - floating(anchor.local)) / period);
}

/**
 * The starts a rule makes, from the series' start (or a later start that makes the same
 * ones), up to the window's end. Wall times are compared on the floating clock and only
 * those near the window are turned into instants: that conversion is the costly part.
 * Where the rule repeats every period, the skipped-to walk is its cycle's arithmetic
 * instead of ical.js (recurrence-cycles.ts): the same starts without ical.js's objects per
 * step (expanding a week of bench scenario 9's 200 weekly series: ~7 ms before, ~1.5 ms).
 */
function* walk(
  anchor: Anchor,
  rule: ICAL.Recur,
  window: { from: number; to: number },
  durationMs: number,
): Generator<number> {
  const zoned = anchor.zone !== null;
  const west = zoned ? WEST : 0;
  const east = zoned ? EAST : 0;
  const walls =
    cycledWalls(anchor, rule, window, durationMs, east) ??
    ruleWalls(anchor, rule, window.from, durationMs);
  for (const next of walls) {
    // iCalendar years have four digits (RFC 5545 §3.3.4): a rule that runs on past 9999 (a
    // huge COUNT, a huge INTERVAL) ends there, as nothing after it can be written or read.
    if (next.year > 9999) return;
    const wall = floating(next);
    if (wall - east >= window.to) return;
    if (wall + west + durationMs < window.from) continue;
    const at = instantOfLocal(anchor, next);
    if (at >= window.to) return;
    yield at;
  }
}

/** The wall times the rule makes from `walkStart` (rule-starts.ts), at most MAX_STEPS. */
function* ruleWalls(
  anchor: Anchor,
  rule: ICAL.Recur,
  from: number,
  durationMs: number,
): Generator<Wall> {
  // The iterator may move the time it is given: it gets its own, never the shared anchor.
  const it = ruleStarts(rule, walkStart(anchor, rule, from, durationMs).clone());
  for (let step = 0; step < MAX_STEPS; step++) {
    const next = it.next();
    if (!next) return;
    yield next;
  }
}

/**
 * The same walk from the rule's cycle, up to the first wall time at or after `window.to +
 * east`; null where the rule has no cycle, the walk would not skip ahead, or ical.js would
 * stop at MAX_STEPS first. The skipped-to start itself lies before the window (see
 * `walkStart`), so whether ical.js would give it changes nothing.
 */
function cycledWalls(
  anchor: Anchor,
  rule: ICAL.Recur,
  window: { from: number; to: number },
  durationMs: number,
  east: number,
): Generator<Wall> | null {
  if (rule.count !== null || !Number.isFinite(window.from)) return null;
  const cycle = cycleOf(rule, anchor.local);
  if (cycle === null) return null;
  const k = periodsBefore(anchor, cycle.period, window.from, durationMs);
  if (k < 1) return null;
  const first = floating(anchor.local) + k * cycle.period;
  const end = window.to + east;
  // Every period gives its offsets once: a bound on what ical.js would step through.
  if (((end - first) / cycle.period + 3) * cycle.offsets.length >= MAX_STEPS) return null;
  return wallsAt(cycleWalls(cycle, first, end));
}

function* wallsAt(walls: Iterable<number>): Generator<Wall> {
  for (const wall of walls) yield wallAt(wall);
}

/** A time on the floating clock as wall time fields. */
function wallAt(wall: number): Wall {
  const d = new Date(wall);
  return {
    year: d.getUTCFullYear(),
    month: d.getUTCMonth() + 1,
    day: d.getUTCDate(),
    hour: d.getUTCHours(),
    minute: d.getUTCMinutes(),
    second: d.getUTCSeconds(),
  };
}

/** The series' wall time at an instant (RDATEs come as instants). */
function localTimeAt(anchor: Anchor, at: number): Wall {
  if (anchor.allDay) {
    const d = new Date(at);
    return {
      year: d.getUTCFullYear(),
      month: d.getUTCMonth() + 1,
      day: d.getUTCDate(),
      hour: 0,
      minute: 0,
      second: 0,
    };
  }
  const [year, month, day, hour, minute, second] = wallClockIn(at, anchor.zone ?? 'Etc/UTC');
  return { year, month, day, hour, minute, second };
}

/** An occurrence's end, on the same clock as its start. */
function endOf(anchor: Anchor, start: EventTime, endAt: number): EventTime {
  if ('date' in start) return { date: new Date(endAt).toISOString().slice(0, 10) };
  return boundaryOf(anchor, localTimeAt(anchor, endAt), endAt);
}
