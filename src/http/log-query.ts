import type { AttemptQuery } from '../core/delivery-log.ts';
import { CoreError } from '../core/errors.ts';

/**
 * An instant in a query: an ISO 8601 date-time with its offset (`2026-12-06T10:00:00Z`) or
 * milliseconds since the epoch.
 */
export function parseInstant(value: string, field: string): number {
  const ms = /^\d{1,16}$/.test(value)
    ? Number(value)
    : /^\d{4}-\d{2}-\d{2}T[\d:.]+(Z|[+-]\d{2}:?\d{2})$/i.test(value)
      ? Date.parse(value)
      : Number.NaN;
  if (!Number.isFinite(ms)) {
    throw new CoreError('invalid', `${field} must be an ISO 8601 date-time with an offset`, {
      field,
    });
  }
  return ms;
}

/**
 * The delivery log's query parameters, shared by every face that shows it (each reports a
 * bad one in its own format): `outcome` (delivered | failed), `from`, `to`, `cursor`,
 * `limit`.
 */
export function parseAttemptQuery(param: (name: string) => string | undefined): AttemptQuery {
  const outcome = param('outcome');
  if (outcome !== undefined && outcome !== 'delivered' && outcome !== 'failed') {
    throw new CoreError('invalid', 'outcome must be delivered or failed', { field: 'outcome' });
  }
  const from = param('from');
  const to = param('to');
  const limit = param('limit');
  if (limit !== undefined && !/^\d{1,4}$/.test(limit)) {
    throw new CoreError('invalid', 'limit must be a whole number', { field: 'limit' });
  }
  const cursor = param('cursor');
  return {
    outcome,
    from: from === undefined ? undefined : parseInstant(from, 'from'),
    to: to === undefined ? undefined : parseInstant(to, 'to'),
    cursor: cursor === '' ? undefined : cursor,
    limit: limit === undefined ? undefined : Number(limit),
  };
}
