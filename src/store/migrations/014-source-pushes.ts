import type { Kysely } from 'kysely';

/**
 * A provider that pushes (Google Calendar's watch channels) makes its source due at once:
 * `pushed_at` is when the last push came. A poll that began before it stores its result and
 * stays due, so a change pushed while the poll ran is read by the next one, never lost.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('sources').addColumn('pushed_at', 'bigint').execute();
}
