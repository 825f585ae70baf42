import type { Transaction } from 'kysely';
import type { Database, Db, Executor } from './schema.ts';

/** Transactions under way, opened through `inTransaction` or marked by their opener. */
const open = new WeakSet<object>();

/**
 * Runs `fn` in a transaction, on either engine. While `fn` runs the transaction is known to be
 * under way, so an engine may run its prepared statements on the connection directly
 * (SQLite: see sqlite/direct-statements.ts); the same transaction object used after its end
 * goes through the builder, which refuses it, instead of landing in whatever holds the
 * connection then.
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

/** Whether `db` is a transaction under way (opened by `inTransaction` or marked open). */
export function isUnderWay(db: Executor): boolean {
  return open.has(db);
}
