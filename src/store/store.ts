import { sql } from 'kysely';
import { Migrator } from 'kysely/migration';
import type { Db } from './schema.ts';
import { migrationsFor } from './migrations/index.ts';
import type { MigrationContext } from './migrations/context.ts';
import type { SecretSealer } from '../domain/secrets.ts';
import type { EngineTraits } from './engine-traits.ts';
import { registerTraits } from './engine-traits.ts';
import type { Engine } from './opened-engine.ts';
import type { QueueSignal } from './queue-signal.ts';
import type { Write } from './write-batcher.ts';
import { groupCommit, separateWrites } from './write-batcher.ts';
import { openSqlite } from './sqlite/open-sqlite.ts';
import type { PostgresSessionLimits } from './postgres/session-limits.ts';
import { openPostgres } from './postgres/open-postgres.ts';

export type { Engine } from './opened-engine.ts';

export interface Store {
  /** The engine's name, for messages and operators: code asks `traits`, never this. */
  readonly engine: Engine;
  readonly db: Db;
  /**
   * Where delivery's statements run (claims, outcomes): connections of their own where the
   * engine has a pool (PostgreSQL), so deliveries never queue behind the API's writes for
   * one; `db` itself elsewhere.
   */
  readonly deliveryDb: Db;
  /** What differs on this engine; code that holds only `db` or a transaction: `traitsOf`. */
  readonly traits: EngineTraits;
  /**
   * Runs a write in a transaction, as the engine wants writes made: group commit on a
   * single-connection engine, a transaction per write elsewhere (`traits.groupCommit`).
   */
  readonly write: Write;
  /** Where the data lives, for operators and the benchmark's footprint figures. */
  readonly location: string;
  /** Reaches the other nodes sharing the store; none on a single-process engine. */
  readonly queueSignal?: QueueSignal | undefined;
  close(): Promise<void>;
}

export interface StoreOptions {
  readonly dataDir: string;
  readonly databaseUrl?: string | undefined;
  /** Told of every database connection that fails (PostgreSQL). */
  readonly onConnectionError?: ((err: Error) => void) | undefined;
  /** Seals what older versions kept in clear, when a migration comes to it. */
  readonly sealer?: SecretSealer | undefined;
  /** Bounds on every PostgreSQL session; the defaults when not given. */
  readonly sessionLimits?: PostgresSessionLimits | undefined;
}

export class StoreError extends Error {
  override name = 'StoreError';
}

/**
 * Opens the store named by the options: PostgreSQL for a database URL, otherwise SQLite
 * under the data directory. Both run the same migrations and the same queries.
 */
export async function openStore(options: StoreOptions): Promise<Store> {
  const opened = options.databaseUrl
    ? openPostgres(options.databaseUrl, {
        onConnectionError: options.onConnectionError,
        limits: options.sessionLimits,
      })
    : openSqlite(options.dataDir);
  const { engine, db, location, traits } = opened;
  registerTraits(db, traits);
  if (opened.migrationDb) registerTraits(opened.migrationDb, traits);
  const deliveryDb = opened.deliveryDb ?? db;
  registerTraits(deliveryDb, traits);
  try {
    await migrate(opened.migrationDb ?? db, {
      ...opened.migrationContext,
      sealer: options.sealer,
    });
    // Settings that suit the running service but not the migrations (SQLite: see
    // keepTemporariesInMemory).
    opened.migrated();
  } catch (err) {
    if (deliveryDb !== db) await deliveryDb.destroy();
    await db.destroy();
    await opened.closed();
    if (err instanceof StoreError) throw err;
    throw new StoreError(
      `cannot open the ${engine} store at ${location}: ${err instanceof Error ? err.message : String(err)}`,
    );
  }
  return {
    engine,
    db,
    deliveryDb,
    traits,
    write: traits.groupCommit ? groupCommit(db) : separateWrites(db),
    location,
    queueSignal: opened.queueSignal,
    async close() {
      await opened.queueSignal?.close();
      if (deliveryDb !== db) await deliveryDb.destroy();
      await db.destroy();
      await opened.closed();
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
