import { sql } from 'kysely';
import type { Kysely } from 'kysely';

/**
 * A channel's queue is found through `notifications_live`: its notifications still to send,
 * by id. The index it replaces, on (channel_id, state, id), held every notification kept for
 * the delivery log, and each state change (pending → sending → delivered) moved the row's
 * entry in it; this one keeps only the rows in the queue, and a notification enters it once
 * and leaves it once. Queries name these states as literals so the planner can use it.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex('notifications_channel_queue').ifExists().execute();
  await db.schema
    .createIndex('notifications_live')
    .on('notifications')
    .columns(['channel_id', 'id'])
    .where(sql<boolean>`state in ('pending', 'sending')`)
    .execute();
}
