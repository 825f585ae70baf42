import type { CoreResources } from './resources.ts';
import type { EventRow } from './events.ts';
import { expandRow, isSeries, occurrenceUid } from './occurrence-rows.ts';
import { chunks, padToPowerOfTwo } from '../store/list-lengths.ts';

export interface VanishedQuery {
  readonly accountId: string;
  readonly calendarId: string;
  /** The window the reader lists instances in. */
  readonly from: number;
  readonly to: number;
  /** What the reader saw: shapes replaced after this change sequence number count. */
  readonly afterSeq: number;
  /** Where the reader's round ends: later shapes are the next round's, so pages hold still. */
  readonly throughSeq: number;
}

/** The ids of an event's instances in a window, as it is shaped in `row`. */
function instanceIds(row: EventRow, window: { from: number; to: number }): string[] {
  const occurrences = expandRow(row, window);
  // A single event is its own instance; expanded, it is its one occurrence, if in the window.
  if (!isSeries(row)) return occurrences.length > 0 ? [row.uid] : [];
  return occurrences.map((o) => occurrenceUid(row.uid, o.originalStart, o.startAt));
}

/**
 * Instances a reader may hold that no longer exist and have no row to say so: occurrences
 * of a series whose rule or start changed since `afterSeq` (a COUNT lowered, a weekday
 * dropped), or the single event that became a series. Each shape an event had since then is
 * expanded in the window, and the ids its current shape or its exceptions still have are
 * left out (a read lists those, changed or removed, itself). Sorted, so pages can be cut by
 * position.
 */
export async function vanishedInstances(res: CoreResources, q: VanishedQuery): Promise<string[]> {
  const shapes = await res.db
    .selectFrom('series_history')
    .select(['uid', 'start_json', 'end_json', 'recurrence_json'])
    .where('calendar_id', '=', q.calendarId)
    .where('account_id', '=', q.accountId)
    .where('replaced_seq', '>', q.afterSeq)
    .where('replaced_seq', '<=', q.throughSeq)
    .execute();
  if (shapes.length === 0) return [];
  const uids = [...new Set(shapes.map((s) => s.uid))];
  const current = new Map<string, EventRow>();
  const kept = new Map<string, Set<string>>();
  const window = { from: q.from, to: q.to };
  for (const batch of chunks(uids)) {
    const rows = await res.db
      .selectFrom('events')
      .selectAll()
      .where('calendar_id', '=', q.calendarId)
      .where('uid', 'in', padToPowerOfTwo(batch))
      .execute();
    for (const row of rows) {
      current.set(row.uid, row);
      kept.set(row.uid, new Set(instanceIds(row, window)));
    }
    const exceptions = await res.db
      .selectFrom('events')
      .select(['uid', 'recurring_event_id'])
      .where('calendar_id', '=', q.calendarId)
      .where('recurring_event_id', 'in', padToPowerOfTwo(batch))
      .execute();
    for (const e of exceptions) kept.get(e.recurring_event_id ?? '')?.add(e.uid);
  }
  const gone = new Set<string>();
  for (const shape of shapes) {
    const row = current.get(shape.uid);
    if (!row) continue;
    const still = kept.get(shape.uid) ?? new Set<string>();
    // A single event's own id is listed by the read while it is one (changed or removed).
    if (!isSeries(row)) still.add(row.uid);
    for (const id of instanceIds({ ...row, ...shape }, window)) {
      if (!still.has(id)) gone.add(id);
    }
  }
  return [...gone].sort();
}
