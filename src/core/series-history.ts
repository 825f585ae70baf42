import type { Executor } from '../store/schema.ts';
import type { EventsTable } from '../store/schema.ts';

/** The columns that decide which instances an event has, and their ids. */
export type EventShape = Pick<EventsTable, 'start_json' | 'end_json' | 'recurrence_json'>;

const sameShape = (a: EventShape, b: EventShape) =>
  a.start_json === b.start_json &&
  a.end_json === b.end_json &&
  a.recurrence_json === b.recurrence_json;

/**
 * Keeps the shape an event is leaving, in the caller's transaction, when it was or becomes
 * a series: the occurrences only the old shape had have no row of their own to carry their
 * removal, so an incremental read finds them from here (see `vanishedInstances`).
 */
export async function keepReplacedShape(
  trx: Executor,
  before: EventShape & Pick<EventsTable, 'recurring_event_id' | 'uid'>,
  after: EventShape,
  write: { accountId: string; calendarId: string; seq: number; now: number },
): Promise<void> {
  if (before.recurring_event_id !== null) return;
  if (before.recurrence_json === null && after.recurrence_json === null) return;
  if (sameShape(before, after)) return;
  await trx
    .insertInto('series_history')
    .values({
      account_id: write.accountId,
      calendar_id: write.calendarId,
      uid: before.uid,
      replaced_seq: write.seq,
      start_json: before.start_json,
      end_json: before.end_json,
      recurrence_json: before.recurrence_json,
      at: write.now,
    })
    .execute();
}
