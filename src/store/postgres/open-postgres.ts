import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import type { Database } from '../schema.ts';
import type { EngineMigrationContext } from '../migrations/context.ts';
import type { OpenedEngine } from '../opened-engine.ts';
import { postgresTraits } from './postgres-traits.ts';
import { PostgresQueueSignal } from './queue-signal.ts';
import type { PostgresSessionLimits } from './session-limits.ts';
import { wrapQueries } from './client-queries.ts';
import { DEFAULT_SESSION_LIMITS } from './session-limits.ts';
import { CONNECTION_NAMES } from './connection-names.ts';

const postgresMigrationContext: EngineMigrationContext = {
  autoId: (table, name = 'id') =>
    table.addColumn(name, 'bigint', (c) => c.primaryKey().generatedByDefaultAsIdentity()),
  tokenRevocationCounter: (table, counter) => [
    `create function ${table}_revoked() returns trigger language plpgsql as $$
       begin update ${counter} set count = count + 1 where id = 1; return null; end $$`,
    `create trigger ${table}_revoked after delete or update of token_hash, account_id
       on ${table} for each statement execute function ${table}_revoked()`,
    `create trigger ${table}_truncated after truncate on ${table}
       for each statement execute function ${table}_revoked()`,
  ],
};

const INT8 = 20;

/**
 * Times and ids are bigint columns; pg hands those back as strings to be safe beyond 2^53.
 * Ours (milliseconds, sequence numbers) stay far below it, so they are read as numbers,
 * exactly as SQLite returns them.
 */
const parseInt8 = (value: string): number => Number(value);
// pg reads results as text unless asked otherwise, so only text parsers are needed.
function textParser(oid: number): (value: string) => unknown {
  if (oid === INT8) return parseInt8;
  const builtIn: unknown = pg.types.getTypeParser(oid, 'text');
  return builtIn as (value: string) => unknown;
}
const types = { getTypeParser: textParser };

/** TCP keepalive: probes start after 10 s of silence (the kernel sets their count). */
const KEEPALIVE_INITIAL_DELAY_MS = 10_000;
/**
 * Beyond the server's statement bound, how long an answer may take to come back before the
 * connection is given up: a cut network (or a server gone silent) answers nothing, and keeps
 * no statement running that the server would end, so only the client can notice.
 */
const ANSWER_MARGIN_MS = 2_000;

/**
 * Connections are replaced after this long. Named statements keep the plan the server settled
 * on after their first calls; one made while a table was empty (a new installation) scans it
 * whole as it grows, until an ANALYZE (autovacuum) makes the server plan again. A connection
 * that ends takes its plans with it, which bounds how long such a plan can last where
 * autovacuum is off.
 */
const CONNECTION_LIFETIME_S = 600;

export interface PostgresOptions {
  /** Told of every connection that fails (server restart, failover, terminated backend). */
  readonly onConnectionError?: ((err: Error) => void) | undefined;
  readonly limits?: PostgresSessionLimits | undefined;
}

/**
 * A pool of bounded connections, each with its own error listener and a record of the
 * statements it sent whose answers are still unread.
 */
function servicePool(
  url: string,
  limits: PostgresSessionLimits,
  pool: { readonly max: number; readonly name: string },
  failed: (err: Error) => void,
): pg.Pool {
  const made = new pg.Pool({
    connectionString: url,
    max: pool.max,
    application_name: pool.name,
    types,
    connectionTimeoutMillis: limits.acquireTimeoutMs,
    statement_timeout: limits.statementTimeoutMs,
    lock_timeout: limits.lockTimeoutMs,
    idle_in_transaction_session_timeout: limits.idleInTransactionTimeoutMs,
    // A statement sent behind an unawaited lock (client-queries.ts) is timed from when it was
    // sent, lock wait included: one that then ran nearly to the statement bound is given up
    // by the client instead, with the same outcome (the transaction ends, the caller gets a
    // 503). Adding the lock bound here would leave a node cut off from the database that much
    // longer before its writes are answered.
    query_timeout: limits.statementTimeoutMs + ANSWER_MARGIN_MS,
    keepAlive: true,
    keepAliveInitialDelayMillis: KEEPALIVE_INITIAL_DELAY_MS,
    // A statement goes out without waiting for the answers before it (see client-queries.ts).
    pipeline: true,
    maxLifetimeSeconds: CONNECTION_LIFETIME_S,
  });
  // A connection the server drops emits 'error'; left unhandled, that ends the process. The
  // pool listens on idle connections only, so each connection gets a listener of its own for
  // while it is checked out: the query in flight fails, its work is retried or handed back,
  // and the pool replaces the connection.
  made.on('error', failed);
  const pending = new WeakMap<pg.PoolClient, () => number>();
  made.on('connect', (client) => {
    client.on('error', failed);
    pending.set(client, wrapQueries(client));
  });
  // Statements whose answers nobody waited for are sent only inside transactions, which end
  // with a statement that carries them. A connection handed back with some still unread would
  // pass their outcome to its next user's query: it is closed instead.
  made.on('release', (_err, client) => {
    // Ending it here marks it ending at once, so the pool drops it rather than keep it idle.
    if ((pending.get(client)?.() ?? 0) > 0) void client.end().catch(() => undefined);
  });
  return made;
}

export function openPostgres(url: string, options: PostgresOptions = {}): OpenedEngine {
  const limits = options.limits ?? DEFAULT_SESSION_LIMITS;
  const failed = (err: Error) => options.onConnectionError?.(err);
  const pool = servicePool(
    url,
    limits,
    { max: limits.poolSize, name: CONNECTION_NAMES.service },
    failed,
  );
  const deliveryPool = servicePool(
    url,
    limits,
    { max: limits.deliveryPoolSize, name: CONNECTION_NAMES.delivery },
    failed,
  );
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  const deliveryDb = new Kysely<Database>({ dialect: new PostgresDialect({ pool: deliveryPool }) });
  // One connection without the statement bounds, for the migrations only.
  const migrationPool = new pg.Pool({
    connectionString: url,
    max: 1,
    application_name: CONNECTION_NAMES.migrations,
    types,
    keepAlive: true,
  });
  migrationPool.on('error', failed);
  migrationPool.on('connect', (client) => client.on('error', failed));
  const migrationDb = new Kysely<Database>({
    dialect: new PostgresDialect({ pool: migrationPool }),
  });
  // Signals go out on delivery's connections: behind the API's writes they would come late.
  const queueSignal = new PostgresQueueSignal(url, deliveryPool, failed);
  let migrationsEnded: Promise<void> | undefined;
  const endMigrations = () => (migrationsEnded ??= migrationDb.destroy());
  const parsed = new URL(url);
  parsed.password = '';
  return {
    engine: 'postgres',
    db,
    deliveryDb,
    location: parsed.toString(),
    traits: postgresTraits,
    migrationContext: postgresMigrationContext,
    migrationDb,
    queueSignal,
    closed: endMigrations,
    migrated: () => void endMigrations(),
  };
}
