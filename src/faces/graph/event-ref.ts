import type { CoreResources } from '../../core/resources.ts';
import type { EventRow } from '../../core/events.ts';
import { parseOccurrenceUid } from '../../core/occurrence-rows.ts';
import { chunks, padToPowerOfTwo } from '../../store/list-lengths.ts';
import { GraphError } from './errors.ts';

/**
 * Graph addresses an event by id alone (`me/events/{id}`), whatever calendar holds it: the
 * calendar is found here, through the series for an occurrence nobody changed yet.
 */
export async function calendarOfEvent(
  res: CoreResources,
  accountId: string,
  id: string,
): Promise<string> {
  const find = (uid: string) =>
    res.db
      .selectFrom('events')
      .select('calendar_id')
      .where('account_id', '=', accountId)
      .where('uid', '=', uid)
      .executeTakeFirst();
  const row = (await find(id)) ?? (await findSeries(id, find));
  if (!row) throw GraphError.notFound();
  return row.calendar_id;
}

async function findSeries<T>(id: string, find: (uid: string) => Promise<T | undefined>) {
  const ref = parseOccurrenceUid(id);
  return ref ? find(ref.seriesUid) : undefined;
}

/**
 * Which of these occurrences have rows of their own (exceptions): the rest are made from
 * their series when read. Graph calls the first `exception`, the others `occurrence`.
 */
export async function storedOccurrences(
  res: CoreResources,
  accountId: string,
  rows: readonly EventRow[],
): Promise<Set<string>> {
  const uids = rows.filter((r) => r.recurring_event_id !== null).map((r) => r.uid);
  const stored = new Set<string>();
  for (const batch of chunks(uids)) {
    const found = await res.db
      .selectFrom('events')
      .select('uid')
      .where('account_id', '=', accountId)
      .where('uid', 'in', padToPowerOfTwo(batch))
      .where('recurring_event_id', 'is not', null)
      .execute();
    for (const f of found) stored.add(f.uid);
  }
  return stored;
}
