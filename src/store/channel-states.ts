import { sql } from 'kysely';

/**
 * `'active'` as a literal for comparisons with `channels.state`. Two partial indexes hold
 * active rows only (`state = 'active'`), and SQLite checks a bound value against such an
 * equality when it plans: a statement that compares `state` with a bound parameter is
 * prepared again every time it runs (tens of microseconds, more than the small statements
 * of the hot paths take to run).
 */
export const ACTIVE = sql.lit('active');
