import type { ProfileEvent } from '../../domain/change.ts';
import type { Dialect, PlannedNotification } from '../../domain/dialect.ts';
import type { CronofyInterest } from './interest.ts';
import { cronofyHears } from './interest.ts';
import { renderCronofyNotification } from './notification-renderer.ts';

/** One `change` notification covers every change since the earliest it names. */
const CHANGE: PlannedNotification = { kind: 'change', withChangeTime: true };
/** Profile notifications go to every channel of the account, whatever its filters. */
const profilePlans: Record<ProfileEvent, PlannedNotification> = {
  initial_sync_completed: { kind: 'profile_initial_sync_completed', withChangeTime: false },
  disconnected: { kind: 'profile_disconnected', withChangeTime: false },
};

/** The user asked to be forgotten: the application should erase what it holds of them. */
const GDPR_REQUESTED: PlannedNotification = { kind: 'gdpr_requested', withChangeTime: false };

const errorKeys: Record<number, string> = { 413: 'errors.too_large' };

/** The Cronofy push dialect: a verification first, then signed JSON `change` bodies. */
export const cronofyDialect: Dialect<CronofyInterest> = {
  name: 'cronofy',
  firstMessage: 'verification',
  planFor(interest, change) {
    if (change.accountEvent === 'erasure_requested') return GDPR_REQUESTED;
    if (change.profileEvent) return profilePlans[change.profileEvent];
    return cronofyHears(interest, change) ? CHANGE : null;
  },
  isSuccess: (status) => status >= 200 && status < 300,
  render: renderCronofyNotification,
  errorBody: (status, message) => ({
    errors: { request: [{ key: errorKeys[status] ?? 'errors.invalid', description: message }] },
  }),
};
