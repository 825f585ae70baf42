import type { QueryResult } from 'kysely';
import type { Executor } from '../schema.ts';
import { isUnderWay } from '../transaction.ts';
import type { NodeSqliteDatabase } from './node-sqlite-database.ts';

/** Each SQLite store's connection, by the SQL builder's adapter (shared by its transactions). */
const connections = new WeakMap<object, NodeSqliteDatabase>();

export function registerSqliteConnection(db: Executor, database: NodeSqliteDatabase): void {
  connections.set(db.getExecutor().adapter, database);
}

/**
 * The connection a compiled statement may run on directly, without the builder's executor:
 * only inside a transaction under way, which already holds SQLite's one connection, so
 * nothing else can run between its statements. Outside one, a statement must queue for the
 * connection like any other, or it would read a write that is still in progress.
 */
export function directConnection(db: Executor): NodeSqliteDatabase | undefined {
  if (!isUnderWay(db)) return undefined;
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
