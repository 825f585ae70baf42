import type { ControlledTransaction, Transaction } from 'kysely';
import type { Database, Db } from './schema.ts';
import { directConnection } from './sqlite/direct-statements.ts';
import { inTransaction, markEnded, markOpen } from './transaction.ts';

export type WriteFn<T> = (trx: Transaction<Database>) => Promise<T>;

/** Runs a write in a transaction of its own, or shares one with writes made alongside it. */
export type Write = <T>(fn: WriteFn<T>) => Promise<T>;

interface Job {
  readonly fn: WriteFn<unknown>;
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: unknown) => void;
}

/** One transaction per write: what a store with concurrent writers (PostgreSQL) wants. */
export function separateWrites(db: Db): Write {
  return (fn) => inTransaction(db, fn);
}

/**
 * Group commit for a single-connection store (SQLite). Writes that arrive while another is
 * running, or in the same turn of the event loop, share one transaction, each inside a
 * savepoint of its own: a write that fails rolls back alone, the others still commit, and
 * every caller hears of its own outcome only once the shared commit is durable. A commit
 * costs far more than a savepoint here (its WAL frames reach the file), so under load this
 * spreads one commit over many API writes; alone, a write still gets its own.
 */
export function groupCommit(db: Db, maxBatch = 64): Write {
  const queue: Job[] = [];
  let scheduled = false;

  async function runBatch(batch: Job[]): Promise<void> {
    const only = batch.length === 1 ? batch[0] : undefined;
    if (only) {
      await inTransaction(db, only.fn).then(only.resolve, only.reject);
      return;
    }
    const outcomes: ({ ok: true; value: unknown } | { ok: false; error: unknown })[] = [];
    const trx = await db.startTransaction().execute();
    markOpen(trx);
    try {
      const scopes = savepoints(trx);
      for (const [i, job] of batch.entries()) {
        const scope = await scopes.open(`w${i}`);
        try {
          const value = await job.fn(scope.trx);
          await scope.release();
          outcomes.push({ ok: true, value });
        } catch (error) {
          await scope.rollback();
          outcomes.push({ ok: false, error });
        }
      }
      markEnded(trx);
      await trx.commit().execute();
    } catch (error) {
      markEnded(trx);
      await trx
        .rollback()
        .execute()
        .catch(() => undefined);
      for (const job of batch) job.reject(error);
      return;
    }
    batch.forEach((job, i) => {
      const outcome = outcomes[i];
      if (outcome?.ok) job.resolve(outcome.value);
      else job.reject(outcome?.error);
    });
  }

  async function drain(): Promise<void> {
    while (queue.length > 0) await runBatch(queue.splice(0, maxBatch));
    scheduled = false;
  }

  return <T>(fn: WriteFn<T>) =>
    new Promise<T>((resolve, reject) => {
      queue.push({ fn, resolve: resolve as (value: unknown) => void, reject });
      if (scheduled) return;
      scheduled = true;
      // Wait one turn of the event loop so requests that arrived together commit together.
      setImmediate(() => void drain());
    });
}

interface Savepoint {
  readonly trx: Transaction<Database>;
  readonly release: () => Promise<unknown>;
  readonly rollback: () => Promise<unknown>;
}

/**
 * Savepoints inside a shared transaction. On SQLite they are plain statements on the
 * connection the transaction holds: through the builder each one cost a connection hand-off
 * and two of them wrap every grouped write.
 */
function savepoints(trx: ControlledTransaction<Database>): {
  open: (name: string) => Promise<Savepoint>;
} {
  const direct = directConnection(trx);
  if (direct) {
    return {
      open: (name) => {
        direct.raw.exec(`savepoint ${name}`);
        return Promise.resolve({
          trx,
          release: () => Promise.resolve(direct.raw.exec(`release ${name}`)),
          rollback: () => Promise.resolve(direct.raw.exec(`rollback to ${name}; release ${name}`)),
        });
      },
    };
  }
  return {
    open: async (name) => {
      const sp = await trx.savepoint(name).execute();
      return {
        trx: sp,
        release: () => sp.releaseSavepoint(name).execute(),
        rollback: () => sp.rollbackToSavepoint(name).execute(),
      };
    },
  };
}
