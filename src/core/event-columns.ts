import type { EventsTable } from '../store/schema.ts';
import type { EventTime } from '../domain/event-time.ts';
import { jsonTextDeeperThan } from '../domain/json-bounds.ts';
import { isDateOnly, isLocalDateTime, isValidTimeZone, isZonedDateTime } from '../domain/time.ts';

/**
 * An event row's JSON columns, read so that no stored row can fail a read. A row is written
 * by calpush from checked input, but one may still be unreadable: written by an older
 * version (before kept fields were bounded), by hand, or damaged. Each column that cannot be
 * read as written is repaired rather than the row skipped, so a client listing or syncing the
 * calendar still learns the event exists and can change or delete it (a write stores the
 * repaired values, which mends the row for good):
 * - a start, end or original start: the stored instant, as a UTC date-time;
 * - recurrence lines: none, so a series lists as its first occurrence (as a rule that
 *   cannot be expanded does);
 * - the fields a face kept as given: dropped.
 * The names of the columns repaired come with the values, for the reader to log.
 */

/** How deep a face's kept fields may nest; Google's deepest (reminder overrides) is 3. */
export const MAX_KEPT_DEPTH = 16;
/** Longest kept-fields text read back: no request body could have written more. */
export const MAX_KEPT_CHARS = 256 * 1024;

export type EventColumn =
  'start_json' | 'end_json' | 'recurrence_json' | 'extra_json' | 'original_start_json';

type StoredColumns = Pick<
  EventsTable,
  | 'start_json'
  | 'end_json'
  | 'start_at'
  | 'end_at'
  | 'recurrence_json'
  | 'extra_json'
  | 'original_start_json'
  | 'original_start_at'
>;

export interface EventColumns {
  readonly start: EventTime;
  readonly end: EventTime;
  readonly recurrence: readonly string[] | null;
  readonly extra: Readonly<Record<string, unknown>> | null;
  /** Set for an exception and for an occurrence made from its series. */
  readonly originalStart: EventTime | null;
  /** Columns that could not be read as written, and were repaired. */
  readonly unreadable: readonly EventColumn[];
}

const UNREADABLE = Symbol('unreadable');

function parse(text: string, maxDepth: number): unknown {
  if (jsonTextDeeperThan(text, maxDepth)) return UNREADABLE;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return UNREADABLE;
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** A stored boundary in the shape the faces wrote it, or undefined. */
function timeOf(text: string): EventTime | undefined {
  const value = parse(text, 1);
  if (!isRecord(value)) return undefined;
  const { date, dateTime, timeZone } = value;
  if (typeof date === 'string') return isDateOnly(date) ? { date } : undefined;
  if (typeof dateTime !== 'string') return undefined;
  if (timeZone !== undefined && (typeof timeZone !== 'string' || !isValidTimeZone(timeZone))) {
    return undefined;
  }
  const readable =
    isZonedDateTime(dateTime) || (timeZone !== undefined && isLocalDateTime(dateTime));
  if (!readable) return undefined;
  return timeZone === undefined ? { dateTime } : { dateTime, timeZone };
}

/** What an unreadable boundary is repaired to: the instant stored beside it, in UTC. */
/** Years 0001 to 9999, the instants a boundary can be written for. */
const FIRST_MS = -62_135_596_800_000;
const LAST_MS = 253_402_300_799_999;

function instantTime(at: number | null, allDay = false): EventTime {
  const ms = Number(at);
  const utc = new Date(ms >= FIRST_MS && ms <= LAST_MS ? ms : 0).toISOString();
  return allDay ? { date: utc.slice(0, 10) } : { dateTime: utc.replace('.000Z', 'Z') };
}

function recurrenceOf(text: string): readonly string[] | undefined {
  const value = parse(text, 1);
  return Array.isArray(value) && value.every((line) => typeof line === 'string')
    ? value
    : undefined;
}

function extraOf(text: string): Record<string, unknown> | undefined {
  if (text.length > MAX_KEPT_CHARS) return undefined;
  const value = parse(text, MAX_KEPT_DEPTH);
  return isRecord(value) ? value : undefined;
}

/** Reads an event row's JSON columns; never throws (see above). */
export function readEventColumns(row: StoredColumns): EventColumns {
  const unreadable: EventColumn[] = [];
  const repaired = <T>(column: EventColumn, value: T): T => {
    unreadable.push(column);
    return value;
  };
  let start = timeOf(row.start_json);
  let end = timeOf(row.end_json);
  // A boundary repaired beside an all-day one is a date too: both must be of one kind.
  const allDay = (start && 'date' in start) || (end && 'date' in end);
  start ??= repaired('start_json', instantTime(row.start_at, allDay));
  end ??= repaired('end_json', instantTime(row.end_at, allDay));
  const recurrence =
    row.recurrence_json === null
      ? null
      : (recurrenceOf(row.recurrence_json) ?? repaired('recurrence_json', null));
  const extra =
    row.extra_json === null ? null : (extraOf(row.extra_json) ?? repaired('extra_json', null));
  const originalStart =
    row.original_start_json === null
      ? null
      : (timeOf(row.original_start_json) ??
        repaired('original_start_json', instantTime(row.original_start_at ?? row.start_at)));
  return { start, end, recurrence, extra, originalStart, unreadable };
}
