import { sql } from 'kysely';
import type { Kysely } from 'kysely';

/**
 * Every leased channel is in the due index: a claim sets its due time to the lease's end,
 * and every release clears both. Rows leased before that rule (stores older than
 * 002-claim-index) get the same due time here, so the start-up hand-back of leases can find
 * them through the index instead of reading the whole channels table.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`update channels set queue_due_at = lease_until
    where lease_until is not null and queue_due_at is null`.execute(db);
}
