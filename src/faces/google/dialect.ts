import type { Dialect, PlannedNotification } from '../../domain/dialect.ts';
import type { GoogleInterest } from './interest.ts';
import { googleHears, watchedCalendarRemoved } from './interest.ts';
import { renderGoogleNotification } from './notification-renderer.ts';

const EXISTS: PlannedNotification = { kind: 'exists', withChangeTime: false };
const NOT_EXISTS: PlannedNotification = { kind: 'not_exists', withChangeTime: false };

/** Google's push success codes: not every 2xx, and 102 too. */
const successStatuses = new Set([200, 201, 202, 204, 102]);

const errorReasons: Record<number, string> = { 413: 'requestTooLarge' };

/** The Google push dialect: a `sync` message first, then `exists` / `not_exists` headers. */
export const googleDialect: Dialect<GoogleInterest> = {
  name: 'google',
  firstMessage: 'sync',
  planFor(interest, change) {
    if (googleHears(interest.resource, change)) return EXISTS;
    return watchedCalendarRemoved(interest.resource, change) ? NOT_EXISTS : null;
  },
  isSuccess: (status) => successStatuses.has(status),
  render: renderGoogleNotification,
  errorBody: (status, message) => ({
    error: {
      code: status,
      message,
      errors: [{ domain: 'global', reason: errorReasons[status] ?? 'invalid', message }],
    },
  }),
};
