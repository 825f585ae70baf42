import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Kysely, SqliteDialect, sql } from 'kysely';
import { Migrator } from 'kysely/migration';
import type { Database, Db } from './schema.ts';
import { NodeSqliteDatabase } from './sqlite/node-sqlite-database.ts';
import { migrationsFor } from './migrations/index.ts';
import type { MigrationContext } from './migrations/context.ts';

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

const sqliteMigrationContext: MigrationContext = {
  autoId: (table, name = 'id') =>
    table.addColumn(name, 'integer', (c) => c.primaryKey().autoIncrement()),
};

export async function openStore(options: StoreOptions): Promise<Store> {
  if (options.databaseUrl) {
    throw new StoreError(
      'PostgreSQL is not available in this build yet; omit --database-url to use SQLite',
    );
  }
  mkdirSync(options.dataDir, { recursive: true });
  const file = join(options.dataDir, 'calpush.sqlite');
  const database = new NodeSqliteDatabase(file);
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database }) });
  await migrate(db, sqliteMigrationContext);
  return {
    engine: 'sqlite',
    db,
    location: file,
    close: () => db.destroy(),
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
