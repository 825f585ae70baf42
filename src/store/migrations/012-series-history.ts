import type { Kysely } from 'kysely';
import type { MigrationContext } from './context.ts';

/**
 * `series_history`: the shape (start, end, recurrence lines) an event had before a write
 * replaced it, when it was or became a series, and the change that replaced it. An incremental read (Graph's calendarView
 * delta) expands the shapes replaced since its token to name, as removed, the occurrences
 * the new shape no longer has: they have no row of their own to carry a deletion.
 */
export async function up(db: Kysely<unknown>, ctx: MigrationContext): Promise<void> {
  await ctx
    .autoId(db.schema.createTable('series_history'))
    .addColumn('account_id', 'text', (c) => c.notNull().references('accounts.id'))
    .addColumn('calendar_id', 'text', (c) => c.notNull())
    .addColumn('uid', 'text', (c) => c.notNull())
    .addColumn('replaced_seq', 'bigint', (c) => c.notNull())
    .addColumn('start_json', 'text', (c) => c.notNull())
    .addColumn('end_json', 'text', (c) => c.notNull())
    .addColumn('recurrence_json', 'text')
    .addColumn('at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('series_history_calendar_seq')
    .on('series_history')
    .columns(['calendar_id', 'replaced_seq'])
    .execute();
}
