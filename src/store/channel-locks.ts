import { sql } from 'kysely';
import type { Executor } from './schema.ts';
import { prepared } from './prepared.ts';
import { traitsOf } from './engine-traits.ts';
import { padToPowerOfTwo } from './list-lengths.ts';

/**
 * Locks channel rows, in id order, before a transaction recomputes their queue state.
 *
 * PostgreSQL runs writers concurrently: without the lock, a completion computing a
 * channel's next due time from a snapshot taken before a concurrent enqueue committed could
 * overwrite it with "nothing queued" and strand the new notification. Locking first makes
 * the next statement see every committed enqueue; a fixed order keeps concurrent lockers
 * from deadlocking. The list is padded to a power of two with repeats, which lock nothing
 * more, so few statement texts serve every length. SQLite runs one transaction at a time,
 * so there it is a no-op and returns null; on PostgreSQL it returns the rows it locked
 * (`concurrentWriters`).
 */
export async function lockChannels(
  trx: Executor,
  channelIds: readonly string[],
): Promise<LockedChannel[] | null> {
  if (!traitsOf(trx).concurrentWriters) return null;
  if (channelIds.length === 0) return [];
  return trx
    .selectFrom('channels')
    .select(['id', 'sending_id'])
    .where('id', 'in', padToPowerOfTwo(channelIds))
    .orderBy('id')
    .forUpdate()
    .execute();
}

const heldChannels = prepared((db, ids: string[]) =>
  db
    .selectFrom('channels')
    .select(sql.lit(1).as('held'))
    .where('id', 'in', ids)
    .orderBy('id')
    .forUpdate(),
);

/**
 * As `lockChannels`, for a caller that reads nothing of the rows: in a transaction the lock
 * goes out without waiting for its answer (`prepared(…).unawaited`), ahead of the statement
 * that needs it, which fails if the lock could not be taken.
 */
export async function holdChannels(trx: Executor, channelIds: readonly string[]): Promise<void> {
  if (!traitsOf(trx).concurrentWriters || channelIds.length === 0) return;
  await heldChannels.unawaited(trx, padToPowerOfTwo(channelIds));
}

/** A channel row as its lock read it: the head its lease is sending, current under the lock. */
export interface LockedChannel {
  readonly id: string;
  readonly sending_id: number | null;
}

/**
 * The heads on the wire among channel rows that read `sending_id`, as numbers (PostgreSQL
 * hands a bigint back as a string).
 */
export function sendingIds(rows: readonly { readonly sending_id: number | null }[]): number[] {
  return rows.flatMap((c) => (c.sending_id === null ? [] : [Number(c.sending_id)]));
}
