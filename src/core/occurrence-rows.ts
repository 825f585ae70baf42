import type { EventRow } from './events.ts';
import type { EventTime } from '../domain/event-time.ts';
import type { Occurrence, Series } from './recurrence.ts';
import { RecurrenceError, expandSeries } from './recurrence.ts';
import { readEventColumns } from './event-columns.ts';

/**
 * A series' occurrences as event rows. An occurrence nobody changed has no row of its own:
 * it is made from its series when read, under the id Google gives it, `{seriesId}_{start}`
 * (the start in UTC, `YYYYMMDDTHHMMSSZ`, or `YYYYMMDD` for an all-day series). A changed,
 * moved or cancelled occurrence (an exception) is stored under that same id, naming its
 * series and the start it replaces, so reads put it where the occurrence would have been.
 */

/** A row whose recurrence lines make occurrences (an exception never has any). */
export function isSeries(row: EventRow): boolean {
  return row.recurrence_json !== null && row.recurring_event_id === null;
}

export function seriesOf(row: EventRow): Series {
  const { start, end, recurrence } = readEventColumns(row);
  return { start, end, recurrence: recurrence ?? [] };
}

function stampOf(original: EventTime, originalAt: number): string {
  if ('date' in original) return original.date.replaceAll('-', '');
  return new Date(originalAt)
    .toISOString()
    .replace(/\.\d{3}/, '')
    .replace(/[-:]/g, '');
}

export function occurrenceUid(seriesUid: string, original: EventTime, originalAt: number): string {
  return `${seriesUid}_${stampOf(original, originalAt)}`;
}

/** The series and original start an occurrence id names, or null when it names none. */
export function parseOccurrenceUid(uid: string): { seriesUid: string; originalAt: number } | null {
  const m = /^(.+)_(\d{4})(\d{2})(\d{2})(?:T(\d{2})(\d{2})(\d{2})Z)?$/.exec(uid);
  if (!m?.[1]) return null;
  const at = Date.UTC(
    Number(m[2]),
    Number(m[3]) - 1,
    Number(m[4]),
    Number(m[5] ?? 0),
    Number(m[6] ?? 0),
    Number(m[7] ?? 0),
  );
  return Number.isNaN(at) ? null : { seriesUid: m[1], originalAt: at };
}

/** An occurrence nobody changed, as a row made from its series. */
export function occurrenceRow(series: EventRow, occurrence: Occurrence): EventRow {
  return {
    ...series,
    uid: occurrenceUid(series.uid, occurrence.originalStart, occurrence.startAt),
    start_json: JSON.stringify(occurrence.start),
    end_json: JSON.stringify(occurrence.end),
    start_at: occurrence.startAt,
    end_at: occurrence.endAt,
    until_at: occurrence.endAt,
    recurrence_json: null,
    recurring_event_id: series.uid,
    original_start_json: JSON.stringify(occurrence.originalStart),
    original_start_at: occurrence.startAt,
  };
}

/**
 * A series' occurrences in a window. A rule that cannot be expanded (a source may send one
 * that was never checked) leaves the series as its first occurrence, never a failed read.
 */
export function expandRow(
  series: EventRow,
  window: { from: number; to: number },
  limit?: number,
  startsFrom?: number,
): Occurrence[] {
  const parsed = seriesOf(series);
  try {
    return expandSeries(parsed, window, { limit, startsFrom });
  } catch (err) {
    if (!(err instanceof RecurrenceError)) throw err;
    const startAt = Number(series.start_at);
    const endAt = Number(series.end_at);
    const overlaps =
      startAt >= (startsFrom ?? -Infinity) &&
      startAt < window.to &&
      (endAt > window.from || startAt >= window.from);
    return overlaps
      ? [{ originalStart: parsed.start, start: parsed.start, end: parsed.end, startAt, endAt }]
      : [];
  }
}

/** The series' occurrence that starts at `originalAt`, if the series has one. */
export function occurrenceAt(series: EventRow, originalAt: number): Occurrence | undefined {
  return expandRow(series, { from: originalAt, to: originalAt + 1 }).find(
    (o) => o.startAt === originalAt,
  );
}
