import type { Executor } from './schema.ts';
import { traitsOf } from './engine-traits.ts';
import { prepared } from './prepared.ts';

/** In a transaction its answer is not waited for: the statement behind it carries it. */
const accountLock = prepared((db, accountId: string) =>
  db.selectNoFrom((eb) =>
    eb.fn('pg_advisory_xact_lock', [eb.fn('hashtext', [eb.val(accountId)])]).as('locked'),
  ),
);

/**
 * On PostgreSQL, writers run concurrently and a sequence number is taken before its
 * transaction commits: a reader could see change 101 committed while 100 is still in flight,
 * hand out a sync token past 100, and that change would never be read. Holding a
 * per-account lock until commit makes an account's changes commit in sequence order, so
 * "the newest committed change" never has a gap below it. SQLite commits one transaction at
 * a time, so there it is not needed (`concurrentWriters`). Taken before any channel row lock
 * (the enqueue's), so a writer that locks channels itself takes this first too.
 */
export async function serializeAccountChanges(trx: Executor, accountId: string): Promise<void> {
  if (!traitsOf(trx).concurrentWriters) return;
  // A write takes it before its first read and again as its change is recorded: the second
  // time it is already held until commit, and asking costs a round trip.
  let held = trx.isTransaction ? heldByTransaction.get(trx) : undefined;
  if (held?.has(accountId)) return;
  await accountLock.unawaited(trx, accountId);
  if (!trx.isTransaction) return;
  if (!held) heldByTransaction.set(trx, (held = new Set()));
  held.add(accountId);
}

/**
 * The accounts whose lock each transaction holds, by the transaction's executor: one object
 * per transaction, gone with it. A savepoint is an executor of its own, so a lock taken
 * inside one (and released if it rolls back) is not taken as held outside it.
 */
const heldByTransaction = new WeakMap<Executor, Set<string>>();
