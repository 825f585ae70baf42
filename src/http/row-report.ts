import type { Logger } from '../log.ts';
import type { EventRow } from '../core/events.ts';

/** A stored row a read could not show as written: which one, and what was wrong with it. */
export interface UnreadableRow {
  readonly id: number | string;
  readonly accountId: string;
  readonly calendarId: string;
  readonly uid: string;
}

export function unreadableRow(row: EventRow): UnreadableRow {
  return { id: row.id, accountId: row.account_id, calendarId: row.calendar_id, uid: row.uid };
}

/**
 * What a face's read does with a stored row it cannot show as written: a row repaired on the
 * way out (a column dropped or rebuilt) is logged and shown; a row that cannot be shown at all
 * is logged and left out, so one bad row never fails the whole list.
 */
export interface RowReport {
  repaired(row: UnreadableRow, fields: readonly string[]): void;
  skipped(row: UnreadableRow, err: unknown): void;
}

/** Logs each bad row once per request, however many of its occurrences a read lists. */
export function createRowReport(logger: Logger): RowReport {
  const seen = new Set<string>();
  const once = (row: UnreadableRow) => {
    // Occurrences made from a series carry the series' row id: one line for all of them.
    const key = String(row.id);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  };
  const where = (row: UnreadableRow) => ({
    eventRowId: row.id,
    accountId: row.accountId,
    calendarId: row.calendarId,
    eventId: row.uid,
  });
  return {
    repaired(row, fields) {
      if (once(row)) logger.warn({ ...where(row), fields }, 'stored event repaired on read');
    },
    skipped(row, err) {
      if (once(row)) logger.error({ ...where(row), err }, 'stored event left out of a read');
    },
  };
}
