import type { QueryResult, Transaction } from 'kysely';
import type { Database, Db, Executor } from '../schema.ts';
import type { NodeSqliteDatabase } from './node-sqlite-database.ts';

/** Each SQLite store's connection, by the SQL builder's adapter (shared by its transactions). */
const connections = new WeakMap<object, NodeSqliteDatabase>();

export function registerSqliteConnection(db: Executor, database: NodeSqliteDatabase): void {
  connections.set(db.getExecutor().adapter, database);
}

/** Transactions under way, opened through `inTransaction` or marked by their opener. */
const open = new WeakSet<object>();

/**
 * Runs `fn` in a transaction whose prepared statements may run on the connection directly.
 * Only while `fn` runs: the same transaction object used after its end goes through the
 * builder, which refuses it, instead of landing in whatever holds the connection then.
 */
export function inTransaction<T>(
  db: Db,
  fn: (trx: Transaction<Database>) => Promise<T>,
): Promise<T> {
  return db.transaction().execute(async (trx) => {
    open.add(trx);
    try {
      return await fn(trx);
    } finally {
      open.delete(trx);
    }
  });
}

/** For a transaction its opener begins and ends by hand (the group commit's). */
export function markOpen(trx: Executor): void {
  open.add(trx);
}

export function markEnded(trx: Executor): void {
  open.delete(trx);
}

/**
 * The connection a compiled statement may run on directly, without the builder's executor:
 * only inside a transaction under way, which already holds SQLite's one connection, so
 * nothing else can run between its statements. Outside one, a statement must queue for the
 * connection like any other, or it would read a write that is still in progress.
 */
export function directConnection(db: Executor): NodeSqliteDatabase | undefined {
  if (!open.has(db)) return undefined;
  return connections.get(db.getExecutor().adapter);
}

/** Runs a compiled statement as the builder's own SQLite connection would, result included. */
export function runDirect<R>(
  database: NodeSqliteDatabase,
  sql: string,
  parameters: readonly unknown[],
): QueryResult<R> {
  const stmt = database.prepare(sql);
  if (stmt.reader) return { rows: stmt.all(parameters) as R[] };
  const { changes, lastInsertRowid } = stmt.run(parameters);
  return {
    rows: [],
    numAffectedRows: BigInt(changes),
    insertId: BigInt(lastInsertRowid),
  };
}
