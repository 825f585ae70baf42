/**
 * Bounds on every connection, so that no node can hold the others for long: a node paused
 * (or cut off) inside a transaction keeps its row locks only until the server ends its idle
 * transaction; a statement that waits for a lock gives up rather than queue behind such a
 * node; no statement runs unbounded. Claims skip locked rows and never wait; the longest
 * statements are a retention pass's batched deletes, well under the statement bound.
 *
 * The idle bound against the lock bound decides what a write on another node meets while a
 * node is stopped holding the rows it needs (an API write locks the channels its change
 * notifies; a claim locks the channels it takes): with the idle bound the shorter, the stopped
 * node's transaction is ended first and the write goes through; with the lock bound the
 * shorter (the defaults: 10 s and 5 s), the write gives up and its caller gets a 503.
 */
export interface PostgresSessionLimits {
  /**
   * Connections a node keeps at most for the API and sources; each write holds one for its
   * transaction. The server's `max_connections` must cover both pools of every node, plus
   * the one connection each node listens on and the one it migrates with.
   */
  readonly poolSize: number;
  /**
   * Connections kept apart for delivery (claims, outcomes, wake-up signals), beside
   * `poolSize`: a claim that queued behind the API's writes for a connection would hold back
   * every change already committed, for as long as the writes keep the pool busy.
   */
  readonly deliveryPoolSize: number;
  /** The pool's wait for a connection (a new one, or a free one when all are busy). */
  readonly acquireTimeoutMs: number;
  readonly statementTimeoutMs: number;
  readonly lockTimeoutMs: number;
  readonly idleInTransactionTimeoutMs: number;
}

/** Production's bounds; `CALPUSH_PG_…` settings change them (src/config/config.ts). */
export const DEFAULT_SESSION_LIMITS: PostgresSessionLimits = {
  poolSize: 10,
  deliveryPoolSize: 3,
  acquireTimeoutMs: 10_000,
  statementTimeoutMs: 30_000,
  lockTimeoutMs: 5_000,
  idleInTransactionTimeoutMs: 10_000,
};
