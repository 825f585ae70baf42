import { sql } from 'kysely';
import type { Executor } from './schema.ts';
import { traitsOf } from './engine-traits.ts';

/** Whose clock stamps and judges leases (see `EngineTraits.leaseClock`). */
export type LeaseClock = 'node' | 'database';

/**
 * PostgreSQL's clock in milliseconds since the epoch, as of the moment the statement that
 * reads it arrived: one value for the whole statement, and later than any reading the node
 * took before sending it. (`now()` would be the transaction's start, which may come before.)
 */
export const databaseNow = sql<number>`(floor(extract(epoch from statement_timestamp()) * 1000))::bigint`;

/** A lease stamped `leaseMs` from the database's clock. */
export function databaseLeaseEnd(leaseMs: number) {
  return sql<number>`${databaseNow} + ${leaseMs}`;
}

/**
 * What a statement on `clock` compares leases with: the database's time, or the node's
 * `now` as a bound value.
 */
export function leaseNowOn(clock: LeaseClock, now: number) {
  return clock === 'database' ? databaseNow : now;
}

/**
 * The end of a lease of `leaseMs` stamped on `clock`: from the database's time, or the
 * node's own reading (`nodeLeaseEnd`, its `now` plus the lease, computed by the caller so
 * that a prepared statement binds it as a value).
 */
export function leaseEndOn(clock: LeaseClock, nodeLeaseEnd: number, leaseMs: number) {
  return clock === 'database' ? databaseLeaseEnd(leaseMs) : nodeLeaseEnd;
}

/** The clock a statement on `db` judges leases by, unless the caller says. */
export function leaseClockOf(db: Executor, chosen?: LeaseClock): LeaseClock {
  return chosen ?? traitsOf(db).leaseClock;
}
