/** What to do after a failed delivery attempt. */
export type RetryDecision =
  | { readonly kind: 'retry'; readonly at: number }
  | { readonly kind: 'close'; readonly reason: string };

export interface RetryPolicy {
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
  /** How long a streak of failures may last before the channel is closed. */
  readonly windowMs: number;
}

export const defaultRetryPolicy: RetryPolicy = {
  baseDelayMs: 10_000,
  maxDelayMs: 60 * 60 * 1000,
  windowMs: 24 * 60 * 60 * 1000,
};

/**
 * How long a channel is retried: the service's window, or its dialect's own when shorter
 * (Graph's subscriptions give up sooner).
 */
export function channelRetryWindow(serviceWindowMs: number, dialectWindowMs?: number): number {
  return dialectWindowMs === undefined
    ? serviceWindowMs
    : Math.min(serviceWindowMs, dialectWindowMs);
}

/**
 * Exponential backoff with "equal jitter": half the delay is fixed so retries never bunch at
 * zero, half is random so a fleet of failing channels does not retry in lockstep.
 */
export function backoffDelay(policy: RetryPolicy, attempt: number, random: number): number {
  const exponent = Math.min(Math.max(attempt - 1, 0), 30);
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** exponent);
  return Math.round(ceiling / 2 + (ceiling / 2) * random);
}

export interface FailureContext {
  readonly now: number;
  /** Start of the current failure streak, this failure included. */
  readonly failingSince: number;
  /** Attempts made for this notification, this one included. */
  readonly attempts: number;
  /** Delay the receiver asked for with Retry-After, if any. */
  readonly retryAfterMs?: number | undefined;
  /** A number in [0, 1). */
  readonly random: number;
}

export function decideAfterFailure(policy: RetryPolicy, ctx: FailureContext): RetryDecision {
  const deadline = ctx.failingSince + policy.windowMs;
  if (ctx.now >= deadline) {
    return { kind: 'close', reason: 'delivery failed continuously for 24 hours' };
  }
  const backoff = backoffDelay(policy, ctx.attempts, ctx.random);
  // A receiver may slow us down with Retry-After but not park the channel beyond our cap.
  const requested =
    ctx.retryAfterMs === undefined ? 0 : Math.min(ctx.retryAfterMs, policy.maxDelayMs);
  // The last retry lands on the deadline, so the channel gets a final chance before closing.
  return { kind: 'retry', at: Math.min(ctx.now + Math.max(backoff, requested), deadline) };
}

/** Parses a Retry-After header (delta-seconds or HTTP-date) into milliseconds from now. */
export function parseRetryAfter(value: string | null | undefined, now: number): number | undefined {
  if (!value) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const date = Date.parse(trimmed);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - now);
}
