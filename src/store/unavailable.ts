/**
 * SQLSTATEs meaning the database could not serve the statement now, though nothing was wrong
 * with it: the session was ended (restart, failover, an operator's pg_terminate_backend, a
 * transaction left idle too long), the server is starting or full, or a bound on the session
 * ended a wait (a lock held by a stalled node, the statement bound).
 */
const UNAVAILABLE_STATES = new Set([
  '57P01', // admin_shutdown: pg_terminate_backend, a fast or smart shutdown
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now: starting up or in recovery
  '57P05', // idle_session_timeout
  '25P03', // idle_in_transaction_session_timeout
  '55P03', // lock_not_available: lock_timeout
  '57014', // query_canceled: statement_timeout
  '53300', // too_many_connections
  '40001', // serialization_failure
  '40P01', // deadlock_detected
]);

/** Socket errors on the way to the database. */
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH']);

/**
 * What node-postgres says, with no code, when a connection ends under a query, cannot be made
 * in time, was already lost when a query came, or gave no answer in time (a network cut).
 */
const LOST_CONNECTION = [
  /^Connection terminated/,
  /^timeout exceeded when trying to connect/,
  /is not queryable$/,
  /^Query read timeout$/,
];

/**
 * Whether an error means the store cannot answer for now, not that the request was wrong: the
 * caller may try again shortly, and an API says 503 rather than 500.
 */
export function isStoreUnavailable(err: unknown): boolean {
  // Followed through `cause`: a wrapper (the pool's, a driver's) keeps the original there.
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 4; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') {
      if (UNAVAILABLE_STATES.has(code) || code.startsWith('08') || NETWORK_CODES.has(code)) {
        return true;
      }
    }
    const { message } = e;
    if (LOST_CONNECTION.some((re) => re.test(message))) return true;
    e = e.cause;
  }
  return false;
}
