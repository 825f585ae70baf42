import { sql } from 'kysely';
import type { Database, Db } from './schema.ts';
import { StoreError } from './store.ts';
import { releaseAllLeases } from './queue/release.ts';
import { inTransaction } from './transaction.ts';

/**
 * Copies an SQLite store into a PostgreSQL one: how an installation moves off its one
 * machine. Every table is copied as it is (ids, sequence
 * numbers and sealed secrets included), so tokens, cursors, page and sync tokens and
 * pending notifications go on working; nothing is re-derived.
 */

/** Tables in an order that puts every referenced row before the rows that refer to it. */
export const COPIED_TABLES = [
  'meta',
  'admin_tokens',
  'clients',
  'client_secrets',
  'accounts',
  'access_tokens',
  'profiles',
  'calendars',
  'events',
  'series_history',
  'changes',
  'channels',
  'notifications',
  'attempts',
  'acl_rules',
  'settings',
  'sources',
  'source_calendars',
  'source_items',
] as const satisfies readonly (keyof Database)[];

/** Columns whose values the target would otherwise generate: its counters move past them. */
const GENERATED_KEYS: Partial<Record<(typeof COPIED_TABLES)[number], string>> = {
  client_secrets: 'id',
  events: 'id',
  series_history: 'id',
  changes: 'seq',
  notifications: 'id',
  attempts: 'id',
};

/** Rows per statement: well under every engine's bound on parameters. */
const BATCH = 200;

export interface CopyReport {
  readonly rows: Readonly<Record<string, number>>;
}

/** Refuses a target that holds anything: a copy never merges into another installation. */
async function requireEmpty(target: Db): Promise<void> {
  for (const table of COPIED_TABLES) {
    const row = await target
      .selectFrom(table)
      .select(sql<number>`1`.as('one'))
      .limit(1)
      .executeTakeFirst();
    if (row) throw new StoreError(`the target store is not empty (table ${table} has rows)`);
  }
}

/**
 * Copies every row of `source` into the empty `target`, in one transaction on each side:
 * the source is read as one snapshot, and the target holds all of it or none. Leases are
 * dropped on the way (the server that held them is stopped), so any node may claim at once.
 */
export async function copyStore(
  source: Db,
  target: Db,
  progress: (table: string, rows: number) => void = () => undefined,
): Promise<CopyReport> {
  await requireEmpty(target);
  const rows: Record<string, number> = {};
  await inTransaction(source, async (from) => {
    await inTransaction(target, async (to) => {
      for (const table of COPIED_TABLES) {
        let copied = 0;
        // Paged by SQLite's rowid, the one key every table has.
        let after = -1;
        for (;;) {
          const page = (
            await sql<Record<string, unknown> & { _rowid: number }>`
            select rowid as _rowid, * from ${sql.table(table)}
            where rowid > ${after} order by rowid limit ${BATCH}`.execute(from)
          ).rows;
          if (page.length === 0) break;
          after = Number(page.at(-1)?._rowid);
          const values = page.map(({ _rowid: _, ...row }) => row);
          await to.insertInto(table).values(values).execute();
          copied += values.length;
        }
        rows[table] = copied;
        progress(table, copied);
      }
      for (const [table, column] of Object.entries(GENERATED_KEYS)) {
        // Identity counters start past the copied ids, or the next insert would collide.
        await sql`select setval(pg_get_serial_sequence(${table}, ${column}),
          greatest(coalesce((select max(${sql.ref(column)}) from ${sql.table(table)}), 0), 1),
          (select count(*) > 0 from ${sql.table(table)}))`.execute(to);
      }
    });
  });
  await releaseAllLeases(target);
  await target.updateTable('sources').set({ lease_until: null }).execute();
  // Statistics now, not at autovacuum's leisure: without them PostgreSQL plans the delivery
  // claim as a scan and sort of every live channel (tens of ms per claim at 20,000 channels).
  await sql`analyze`.execute(target);
  return { rows };
}
