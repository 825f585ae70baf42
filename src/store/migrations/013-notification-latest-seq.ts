import type { Kysely } from 'kysely';

/**
 * `notifications.latest_seq`: for a dialect whose message names the version it reports
 * (Graph's `@odata.etag`, the event's changeKey), the change sequence number of the latest
 * change a notification covers. A change that coalesces into a waiting notification raises
 * it. Null for the other dialects, and for notifications queued before it was kept.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('notifications').addColumn('latest_seq', 'bigint').execute();
}
