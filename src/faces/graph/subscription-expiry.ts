import { isZonedDateTime } from '../../domain/time.ts';
import { GraphError } from './errors.ts';

const MINUTE = 60_000;
/** Outlook event subscriptions live at most 10,080 minutes (7 days). */
export const MAX_LIFETIME_MS = 10_080 * MINUTE;
/** An earlier expiry is raised to 45 minutes from now, as Graph does. */
export const MIN_LIFETIME_MS = 45 * MINUTE;

/** The expiry a request asks for, checked against Graph's bounds and raised to the minimum. */
export function subscriptionExpiry(value: string, now: number): number {
  if (!isZonedDateTime(value)) {
    throw GraphError.invalid(`Invalid value '${value}' for property 'expirationDateTime'.`);
  }
  const at = Date.parse(value);
  if (at <= now) {
    throw new GraphError(
      400,
      'ExtensionError',
      'Subscription expiration date must be in the future.',
    );
  }
  if (at > now + MAX_LIFETIME_MS) {
    throw new GraphError(
      400,
      'ExtensionError',
      'Subscription expiration can only be 10080 minutes in the future.',
    );
  }
  return Math.max(at, now + MIN_LIFETIME_MS);
}
