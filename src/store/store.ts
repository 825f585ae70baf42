import { sql } from 'kysely';
import { Migrator } from 'kysely/migration';
import type { Db } from './schema.ts';
import { migrationsFor } from './migrations/index.ts';
import type { MigrationContext } from './migrations/context.ts';
import { openSqlite, sqliteMigrationContext } from './sqlite/open-sqlite.ts';
import { openPostgres, postgresMigrationContext } from './postgres/open-postgres.ts';

export type Engine = 'sqlite' | 'postgres';

export interface Store {
  readonly engine: Engine;
  readonly db: Db;
  /** Where the data lives, for operators and the benchmark's footprint figures. */
  readonly location: string;
  close(): Promise<void>;
}

export interface StoreOptions {
  readonly dataDir: string;
  readonly databaseUrl?: string | undefined;
}

export class StoreError extends Error {
  override name = 'StoreError';
}

/**
 * Opens the store named by the options: PostgreSQL for a database URL, otherwise SQLite
 * under the data directory. Both run the same migrations and the same queries.
 */
export async function openStore(options: StoreOptions): Promise<Store> {
  const engine: Engine = options.databaseUrl ? 'postgres' : 'sqlite';
  const opened = options.databaseUrl
    ? openPostgres(options.databaseUrl)
    : openSqlite(options.dataDir);
  const { db, location, closed } = opened;
  try {
    await migrate(db, engine === 'postgres' ? postgresMigrationContext : sqliteMigrationContext);
    // Settings that suit the running service but not the migrations (SQLite: see
    // keepTemporariesInMemory).
    opened.migrated();
  } catch (err) {
    await db.destroy();
    await closed();
    if (err instanceof StoreError) throw err;
    throw new StoreError(
      `cannot open the ${engine} store at ${location}: ${err instanceof Error ? err.message : String(err)}`,
    );
  }
  return {
    engine,
    db,
    location,
    async close() {
      await db.destroy();
      await closed();
    },
  };
}

async function migrate(db: Db, ctx: MigrationContext): Promise<void> {
  const migrator = new Migrator({
    db,
    provider: { getMigrations: () => Promise.resolve(migrationsFor(ctx)) },
  });
  const { error, results } = await migrator.migrateToLatest();
  if (error) {
    const failed = results?.find((r) => r.status === 'Error')?.migrationName ?? 'unknown';
    throw new StoreError(
      `migration ${failed} failed: ${error instanceof Error ? error.message : JSON.stringify(error)}`,
    );
  }
}

/** Checks the store answers, for readiness probes. */
export async function ping(store: Store): Promise<void> {
  await sql`select 1`.execute(store.db);
}
