import {
  isDateOnly,
  isLocalDateTime,
  isValidTimeZone,
  isZonedDateTime,
  zonedToUtc,
} from './time.ts';

/** An event boundary as both faces understand it: an all-day date or an instant with a zone. */
export type EventTime =
  { readonly date: string } | { readonly dateTime: string; readonly timeZone?: string | undefined };

/** The last instant a Date can hold: where a series that never ends ends. */
export const FOREVER = 8_640_000_000_000_000;

/** The UTC instant a boundary stands for; dates count from midnight UTC. */
export function instantOf(time: EventTime): number {
  if ('date' in time) return Date.parse(`${time.date}T00:00:00Z`);
  if (isZonedDateTime(time.dateTime)) return Date.parse(time.dateTime);
  return zonedToUtc(time.dateTime, time.timeZone ?? 'Etc/UTC');
}

/** A boundary's instant once checked, or why it is unusable. */
export type CheckedTime = { readonly instant: number } | { readonly problem: string };

/**
 * Checks a boundary and finds its instant in the same pass: a write needs both, and parsing
 * each boundary again for the instant cost an upsert several microseconds (bench/writes.ts).
 */
export function checkEventTime(time: EventTime): CheckedTime {
  if ('date' in time) {
    return isDateOnly(time.date)
      ? { instant: Date.parse(`${time.date}T00:00:00Z`) }
      : { problem: 'must be a date (YYYY-MM-DD)' };
  }
  if (time.timeZone !== undefined && !isValidTimeZone(time.timeZone)) {
    return { problem: `unknown time zone ${time.timeZone}` };
  }
  if (isZonedDateTime(time.dateTime)) return { instant: Date.parse(time.dateTime) };
  if (time.timeZone !== undefined && isLocalDateTime(time.dateTime)) {
    const instant = localInstant(time.dateTime, time.timeZone);
    if (!Number.isNaN(instant)) return { instant };
  }
  return {
    problem: 'must be an RFC 3339 date-time with an offset, or a local time with a time zone',
  };
}

function localInstant(dateTime: string, timeZone: string): number {
  try {
    return zonedToUtc(dateTime, timeZone);
  } catch {
    return Number.NaN;
  }
}
