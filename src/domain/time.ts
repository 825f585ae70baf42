/** Calendar time helpers: pure, no clock reads. */

const dateOnly = /^(\d{4})-(\d{2})-(\d{2})$/;
const localDateTime = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?$/;
const zonedDateTime = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})$/i;

export function isDateOnly(value: string): boolean {
  const m = dateOnly.exec(value);
  if (!m) return false;
  const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
  // Day 0 of the next month is the last day of this one (UTC arithmetic, no parsing).
  const daysInMonth = new Date(Date.UTC(year, month, 0)).getUTCDate();
  return year >= 1 && month >= 1 && month <= 12 && day >= 1 && day <= daysInMonth;
}

export function isZonedDateTime(value: string): boolean {
  // The calendar date must exist as written: Date.parse would roll 02-30 over to March.
  return (
    zonedDateTime.test(value) && !Number.isNaN(Date.parse(value)) && isDateOnly(value.slice(0, 10))
  );
}

/**
 * A wall-clock time as written, without offset (`2026-07-01T09:00[:00[.000]]`, or a bare
 * date for its midnight), that exists on the calendar and clock: Date.UTC would roll 02-30
 * over to March and 24:00 to the next day. What `zonedToUtc` reads.
 */
export function isLocalDateTime(value: string): boolean {
  const m = localDateTime.exec(value);
  if (!m) return isDateOnly(value);
  const [hour, minute, second] = [Number(m[4]), Number(m[5]), Number(m[6] ?? 0)];
  return isDateOnly(value.slice(0, 10)) && hour <= 23 && minute <= 59 && second <= 59;
}

/** Date.UTC, except that a year under 100 is that year, not 1900 plus it. */
function utcOf(
  year: number,
  month: number,
  day: number,
  hour: number,
  minute: number,
  second: number,
): number {
  const ms = Date.UTC(year, month - 1, day, hour, minute, second);
  if (year < 0 || year >= 100) return ms;
  // Years 1–99 and 1901–1999 have the same leap days, so only the year moves.
  const date = new Date(ms);
  date.setUTCFullYear(year);
  return date.getTime();
}

/**
 * Formatters are costly to build (tens of microseconds) and a write path asks for the same
 * few zones again and again, so one is kept per zone; an unknown zone is remembered too.
 */
const zoneParts = new Map<string, Intl.DateTimeFormat | null>();

function zonePartsFormatter(tz: string): Intl.DateTimeFormat | null {
  let formatter = zoneParts.get(tz);
  if (formatter === undefined) {
    try {
      formatter = new Intl.DateTimeFormat('en-US', {
        timeZone: tz,
        hourCycle: 'h23',
        year: 'numeric',
        month: '2-digit',
        day: '2-digit',
        hour: '2-digit',
        minute: '2-digit',
        second: '2-digit',
      });
    } catch {
      formatter = null;
    }
    // Zone names come from clients: bound the cache rather than trust them.
    if (zoneParts.size > 1000) zoneParts.clear();
    zoneParts.set(tz, formatter);
  }
  return formatter;
}

export function isValidTimeZone(tz: string): boolean {
  return zonePartsFormatter(tz) !== null;
}

/** The wall clock of `tz` at the instant `utcMs`: year, month (1–12), day, hour, minute, second. */
export function wallClockIn(
  utcMs: number,
  tz: string,
): [number, number, number, number, number, number] {
  const d = new Date(Math.floor(utcMs / 1000) * 1000 + zoneOffset(utcMs, tz));
  return [
    d.getUTCFullYear(),
    d.getUTCMonth() + 1,
    d.getUTCDate(),
    d.getUTCHours(),
    d.getUTCMinutes(),
    d.getUTCSeconds(),
  ];
}

function formattedWallClock(utcMs: number, tz: string) {
  const formatter = zonePartsFormatter(tz);
  if (!formatter) throw new RangeError(`unknown time zone ${tz}`);
  const parts = formatter.formatToParts(new Date(utcMs));
  const get = (type: string) => Number(parts.find((p) => p.type === type)?.value);
  return [
    get('year'),
    get('month'),
    get('day'),
    get('hour'),
    get('minute'),
    get('second'),
  ] as const;
}

function formattedOffset(utcMs: number, tz: string): number {
  return utcOf(...formattedWallClock(utcMs, tz)) - Math.floor(utcMs / 1000) * 1000;
}

const DAY_MS = 86_400_000;
/** Per zone and UTC day, the day's offset, or null when it changes within the day. */
const dayOffsets = new Map<string, number | null>();

/**
 * Offset of `tz` from UTC at the instant `utcMs`, in ms. Asking Intl costs microseconds and
 * expanding a series asks for many instants of the same few days, so a day whose offset is
 * the same at both ends is remembered; no zone changes its offset twice in one day.
 */
function zoneOffset(utcMs: number, tz: string): number {
  const day = Math.floor(utcMs / DAY_MS);
  const key = `${tz} ${day}`;
  let offset = dayOffsets.get(key);
  if (offset === undefined) {
    const first = formattedOffset(day * DAY_MS, tz);
    offset = formattedOffset(day * DAY_MS + DAY_MS - 1000, tz) === first ? first : null;
    if (dayOffsets.size >= 100_000) dayOffsets.clear();
    dayOffsets.set(key, offset);
  }
  return offset ?? formattedOffset(utcMs, tz);
}

/**
 * The UTC instant of a wall-clock time in a zone, as RFC 5545 §3.3.5 reads one: a time the
 * clocks go back over is the first of the two (01:30 EDT, not EST, in New York in November);
 * a time skipped when they go forward takes the offset before the gap, so it moves forward by
 * the gap (02:30 → 03:30 EDT in March).
 */
export function zonedToUtc(local: string, tz: string): number {
  const m = localDateTime.exec(local) ?? dateOnly.exec(local);
  if (!m) throw new RangeError(`not a local date-time: ${local}`);
  const wall = utcOf(
    Number(m[1]),
    Number(m[2]),
    Number(m[3]),
    Number(m[4] ?? 0),
    Number(m[5] ?? 0),
    Number(m[6] ?? 0),
  );
  // The instant lies within 14 hours of the wall time, so the offsets a day either side are
  // the ones before and after any change near it (no zone changes twice in two days).
  const before = zoneOffset(wall - DAY_MS, tz);
  const after = zoneOffset(wall + DAY_MS, tz);
  if (before === after) return wall - before;
  // Read on the old clock first: when both clocks show this time, that is the earlier one.
  if (zoneOffset(wall - before, tz) === before) return wall - before;
  if (zoneOffset(wall - after, tz) === after) return wall - after;
  // Neither clock shows it: it is in the gap.
  return wall - before;
}

let lastSecond = Number.NaN;
let lastFormatted = '';

/** RFC 3339 in UTC at second precision, as both APIs print instants. */
export function formatUtc(ms: number): string {
  // Notifications sent together mostly carry instants of the same second: format it once.
  const second = Math.floor(ms / 1000);
  if (second !== lastSecond) {
    lastFormatted = new Date(second * 1000).toISOString().replace('.000Z', 'Z');
    lastSecond = second;
  }
  return lastFormatted;
}

/** RFC 3339 in UTC with milliseconds, Google's `updated`/`created` format. */
export function formatUtcMillis(ms: number): string {
  return new Date(ms).toISOString();
}

/** The date (YYYY-MM-DD) an instant falls on in a zone. */
export function dateInZone(ms: number, tz: string): string {
  return new Intl.DateTimeFormat('en-CA', {
    timeZone: tz,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
  }).format(new Date(ms));
}

export function addDays(date: string, days: number): string {
  const d = new Date(`${date}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + days);
  return d.toISOString().slice(0, 10);
}
