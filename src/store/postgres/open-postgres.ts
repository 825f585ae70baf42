import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import type { Database } from '../schema.ts';
import type { MigrationContext } from '../migrations/context.ts';
import type { OpenedEngine } from '../opened-engine.ts';
import { postgresTraits } from './postgres-traits.ts';

const postgresMigrationContext: MigrationContext = {
  autoId: (table, name = 'id') =>
    table.addColumn(name, 'bigint', (c) => c.primaryKey().generatedByDefaultAsIdentity()),
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

export function openPostgres(url: string): OpenedEngine {
  const pool = new pg.Pool({ connectionString: url, max: 10, types });
  // An idle connection the server drops (restart, failover) is discarded by the pool; left
  // unhandled, its 'error' event would end the process.
  pool.on('error', () => undefined);
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  const parsed = new URL(url);
  parsed.password = '';
  return {
    engine: 'postgres',
    db,
    location: parsed.toString(),
    traits: postgresTraits,
    migrationContext: postgresMigrationContext,
    closed: () => Promise.resolve(),
    migrated: () => undefined,
  };
}
