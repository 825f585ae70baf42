import { PostgresAdapter } from 'kysely';
import type { Executor } from './schema.ts';

/**
 * Locks channel rows, in id order, before a transaction recomputes their queue state.
 *
 * PostgreSQL runs writers concurrently: without the lock, a completion computing a
 * channel's next due time from a snapshot taken before a concurrent enqueue committed could
 * overwrite it with "nothing queued" and strand the new notification. Locking first makes
 * the next statement see every committed enqueue; a fixed order keeps concurrent lockers
 * from deadlocking. SQLite runs one transaction at a time, so there it is a no-op.
 */
export async function lockChannels(trx: Executor, channelIds: readonly string[]): Promise<void> {
  if (channelIds.length === 0) return;
  if (!(trx.getExecutor().adapter instanceof PostgresAdapter)) return;
  await trx
    .selectFrom('channels')
    .select('id')
    .where('id', 'in', [...channelIds])
    .orderBy('id')
    .forUpdate()
    .execute();
}
