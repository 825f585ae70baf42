import { sql } from 'kysely';
import type { Kysely } from 'kysely';

/**
 * `sending_id`: the notification a channel's lease is sending. A claim records its head here,
 * in the update that takes the lease, instead of moving the head's row to `sending`: that
 * move rewrote the row and both notification indexes on every claim. The head now stays
 * `pending` while it is on the wire; only when a change of the same kind arrives meanwhile
 * is it moved out of the coalescing index (to `sending`), so the change queues behind it
 * instead of merging into a notification the receiver may already have read.
 *
 * Leases taken before this version marked their head `sending`: those heads are recorded
 * (a leased channel is always due, so the due index finds them; the condition names the
 * live-queue index's states so that SQLite reads that index, not the whole history). The old version's own nodes do not set heads
 * aside: on PostgreSQL, stop every node of an older version before starting this one.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('channels').addColumn('sending_id', 'bigint').execute();
  await sql`update channels set sending_id = (select min(n.id) from notifications n
      where n.channel_id = channels.id and n.state in ('pending', 'sending') and n.state = 'sending')
    where queue_due_at is not null and lease_until is not null`.execute(db);
}
