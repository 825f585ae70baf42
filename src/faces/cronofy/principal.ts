import type { CoreResources } from '../../core/resources.ts';
import type { Principal } from '../../core/accounts.ts';
import type { TokenBuckets } from '../../domain/rate-limit.ts';
import { authorize } from '../../http/authorize.ts';
import { bearerToken } from '../../http/read-json.ts';
import { CronofyError } from './errors.ts';

/**
 * The account a Cronofy request's bearer token speaks for; over its request budget, a 429 in
 * Cronofy's error format with Retry-After.
 */
export async function cronofyPrincipal(
  res: CoreResources,
  authorization: string | undefined,
  rateLimit: TokenBuckets | undefined,
): Promise<Principal> {
  const auth = await authorize(res, bearerToken(authorization), rateLimit);
  if (!auth.ok) {
    throw new CronofyError(
      429,
      { request: [{ key: 'errors.rate_limited', description: 'too many requests' }] },
      { 'retry-after': String(auth.retryAfterSeconds) },
    );
  }
  return auth.principal;
}
