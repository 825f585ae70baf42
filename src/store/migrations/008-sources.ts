import type { Kysely } from 'kysely';

/**
 * Sources: calendars that live elsewhere (a CalDAV server, an ICS feed), each a profile of
 * its account. `sources` holds the connection and its schedule (leased to one node at a time
 * while it is polled, like a channel's head); `source_calendars` ties each mirrored calendar
 * to its upstream collection with the provider's cursor; `source_items` holds the version of
 * every upstream object and the events it produced, so a poll rewrites only what changed.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('sources')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('account_id', 'text', (c) => c.notNull().references('accounts.id'))
    .addColumn('profile_id', 'text', (c) => c.notNull().references('profiles.id'))
    .addColumn('provider', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('url', 'text', (c) => c.notNull())
    /** The URL's host:port: polls are bounded per host, and a lease skips busy hosts. */
    .addColumn('host', 'text', (c) => c.notNull())
    .addColumn('username', 'text')
    /** The password, sealed (AES-256-GCM under the server's secret key). */
    .addColumn('sealed_password', 'text')
    .addColumn('state', 'text', (c) => c.notNull())
    .addColumn('poll_interval_ms', 'bigint', (c) => c.notNull())
    .addColumn('next_poll_at', 'bigint')
    .addColumn('lease_until', 'bigint')
    .addColumn('failures', 'integer', (c) => c.notNull())
    .addColumn('cursor_json', 'text')
    .addColumn('last_polled_at', 'bigint')
    .addColumn('last_changed_at', 'bigint')
    .addColumn('last_error', 'text')
    /** When the first full sync completed; null while it has not. */
    .addColumn('synced_at', 'bigint')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('sources_account').on('sources').column('account_id').execute();
  await db.schema.createIndex('sources_due').on('sources').column('next_poll_at').execute();

  await db.schema
    .createTable('source_calendars')
    .addColumn('calendar_id', 'text', (c) => c.primaryKey().references('calendars.id'))
    .addColumn('source_id', 'text', (c) => c.notNull().references('sources.id'))
    .addColumn('remote_id', 'text', (c) => c.notNull())
    .addColumn('cursor_json', 'text')
    .execute();
  await db.schema
    .createIndex('source_calendars_remote')
    .on('source_calendars')
    .columns(['source_id', 'remote_id'])
    .unique()
    .execute();

  await db.schema
    .createTable('source_items')
    .addColumn('calendar_id', 'text', (c) => c.notNull().references('calendars.id'))
    .addColumn('item_key', 'text', (c) => c.notNull())
    .addColumn('version', 'text', (c) => c.notNull())
    /** The iCalendar UID its events share; null for an object with no event. */
    .addColumn('ical_uid', 'text')
    /** The ids of the events the item produced (a series and its overrides). */
    .addColumn('event_uids_json', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('source_items_key', ['calendar_id', 'item_key'])
    .execute();
  // An object moved to another href keeps its UID: its events stay while any item holds it.
  await db.schema
    .createIndex('source_items_uid')
    .on('source_items')
    .columns(['calendar_id', 'ical_uid'])
    .execute();
}
