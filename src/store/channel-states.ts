import { sql } from 'kysely';

/**
 * `'active'` as a literal for comparisons with `channels.state`. Two partial indexes hold
 * active rows only (`state = 'active'`), and SQLite checks a bound value against such an
 * equality when it plans: a statement that compares `state` with a bound parameter is
 * prepared again every time it runs (tens of microseconds, more than the small statements
 * of the hot paths take to run).
 */
export const ACTIVE = sql.lit('active');

/**
 * The columns of a channel that is active, healthy and idle: nothing failing, queued, leased
 * or in its quiet interval. A new channel starts so, and a reopened one starts over so.
 */
export const ACTIVE_AND_IDLE = {
  state: 'active',
  closed_reason: null,
  closed_at: null,
  failing_since: null,
  queue_due_at: null,
  lease_until: null,
  sending_id: null,
  quiet_until: null,
} as const;
