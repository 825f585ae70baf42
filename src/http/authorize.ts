import type { CoreResources } from '../core/resources.ts';
import type { Principal } from '../core/accounts.ts';
import type { TokenBuckets } from '../domain/rate-limit.ts';
import { authenticate } from '../core/accounts.ts';

export type Authorization =
  | { readonly ok: true; readonly principal: Principal }
  | { readonly ok: false; readonly retryAfterSeconds: number };

/**
 * Who a request speaks for, and whether that account still has request budget. Both faces
 * call it; each turns a refusal into its own error format. A bad token throws CoreError.
 */
export async function authorize(
  res: CoreResources,
  token: string | undefined,
  rateLimit: TokenBuckets | undefined,
): Promise<Authorization> {
  const principal = await authenticate(res, token);
  const verdict = rateLimit?.take(principal.accountId, res.clock.now());
  if (verdict && !verdict.ok) {
    return { ok: false, retryAfterSeconds: Math.ceil(verdict.retryAfterMs / 1000) };
  }
  return { ok: true, principal };
}
