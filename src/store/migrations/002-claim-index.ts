import { sql } from 'kysely';
import type { Kysely } from 'kysely';

/**
 * A claim walks `channels_queue_due` in due order. Two kinds of row used to sit at its head
 * and cost a table lookup each on every claim: channels already leased (in flight) and
 * channels of an origin the claim excludes because it is saturated. A claim now moves a
 * leased channel's due time to its lease expiry, so in-flight channels leave the head, and the
 * index carries `origin`, so an excluded origin's rows are skipped without reading the row.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex('channels_queue_due').execute();
  await db.schema
    .createIndex('channels_queue_due')
    .on('channels')
    .columns(['queue_due_at', 'origin'])
    .where(sql.ref('queue_due_at'), 'is not', null)
    .execute();
  // Leases taken before this version: due again when they run out, as new claims leave them.
  await sql`update channels set queue_due_at = lease_until
    where lease_until is not null and queue_due_at is not null and queue_due_at < lease_until`.execute(
    db,
  );
}
