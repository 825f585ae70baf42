import { sql } from 'kysely';

/**
 * The states of a notification still in its channel's queue: the rows the partial index
 * `notifications_live` holds. A query uses that index only if it names the same condition
 * with the same literals (a bound parameter would not match), so every query that looks
 * for queued notifications filters with `liveState` and narrows further from there.
 */
export const liveState = sql<boolean>`state in ('pending', 'sending')`;

/** The same condition for a table under another name (`alias.state`). */
export function liveStateOf(alias: string) {
  return sql<boolean>`${sql.ref(`${alias}.state`)} in ('pending', 'sending')`;
}

/**
 * The queue's states as literals for comparisons with `notifications.state`. Compared with a
 * bound parameter, the state is checked against the coalescing index's condition (`state =
 * 'pending'`) when SQLite plans, and the statement is prepared again every time it runs; an
 * ON CONFLICT target must name that condition itself to match the index.
 */
export const PENDING = sql.lit('pending');
export const SENDING = sql.lit('sending');
