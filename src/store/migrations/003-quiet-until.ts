import type { Kysely } from 'kysely';

/**
 * `quiet_until`: after a delivery, a channel's next notification is not sent before this
 * time (the delivery's minimum interval), so a burst of changes reaches the receiver as one
 * notification instead of one per change. Null for channels that have never been notified.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('channels').addColumn('quiet_until', 'bigint').execute();
}
