import { isDateOnly, isValidTimeZone, isZonedDateTime, zonedToUtc } from './time.ts';

/** An event boundary as both faces understand it: an all-day date or an instant with a zone. */
export type EventTime =
  { readonly date: string } | { readonly dateTime: string; readonly timeZone?: string | undefined };

/** The UTC instant a boundary stands for; dates count from midnight UTC. */
export function instantOf(time: EventTime): number {
  if ('date' in time) return Date.parse(`${time.date}T00:00:00Z`);
  if (isZonedDateTime(time.dateTime)) return Date.parse(time.dateTime);
  return zonedToUtc(time.dateTime, time.timeZone ?? 'Etc/UTC');
}

/** Why a boundary is unusable, or null when it is fine. */
export function eventTimeProblem(time: EventTime): string | null {
  if ('date' in time) return isDateOnly(time.date) ? null : 'must be a date (YYYY-MM-DD)';
  if (time.timeZone !== undefined && !isValidTimeZone(time.timeZone)) {
    return `unknown time zone ${time.timeZone}`;
  }
  if (isZonedDateTime(time.dateTime)) return null;
  if (time.timeZone !== undefined && !Number.isNaN(instantSafe(time))) return null;
  return 'must be an RFC 3339 date-time with an offset, or a local time with a time zone';
}

function instantSafe(time: EventTime): number {
  try {
    return instantOf(time);
  } catch {
    return Number.NaN;
  }
}
