import type { Clock } from '../domain/clock.ts';
import type { AttemptRecord, Completion, Delivery } from '../domain/delivery.ts';
import type { RetryPolicy } from '../domain/retry-policy.ts';
import { channelRetryWindow, decideAfterFailure, parseRetryAfter } from '../domain/retry-policy.ts';
import type { SendResult } from './http-sender.ts';
import type { DeliveryDialects } from './notification-request.ts';

/** What turns an attempt's result into a completion; the dispatcher's deps carry all of it. */
export interface OutcomeRules {
  /** Which statuses each dialect counts as received. */
  readonly dialects: DeliveryDialects;
  readonly policy: RetryPolicy;
  /** Read only after a failure: the time the retry is scheduled from. */
  readonly clock: Clock;
  /** Called only after a failure, once: the retry's jitter. */
  readonly random: () => number;
}

/**
 * How an attempt changes the queue: delivered when the channel's dialect counts the status as
 * received; closed at once on 410 Gone; otherwise a retry with backoff, or, once the streak
 * of failures has lasted the policy's window (or the dialect's shorter one), a close, or a
 * drop of this notification alone for a dialect that gives up that way. `at` is when the attempt started (a new streak starts there) and
 * `latencyMs` how long it took; both are recorded with it.
 */
export function classifyOutcome(
  rules: OutcomeRules,
  delivery: Delivery,
  { status, error, retryAfter, excerpt }: SendResult,
  at: number,
  latencyMs: number,
): Completion {
  const recorded = {
    at,
    status: status ?? null,
    error: error ?? (status === undefined ? 'no response' : null),
    latencyMs,
  };
  // Only a failed answer with a body has an excerpt: the delivered majority carries no field.
  const attempt: AttemptRecord = excerpt ? { ...recorded, excerpt } : recorded;
  const dialect = rules.dialects[delivery.channel.dialect];
  if (status !== undefined && dialect?.isSuccess(status)) {
    // A farewell ends the channel, whether it went as the head or batched behind it.
    const farewell = [delivery.kind, ...(delivery.batched ?? []).map((b) => b.kind)].find((kind) =>
      dialect.isFarewell?.(kind),
    );
    if (farewell !== undefined) {
      return { kind: 'delivered', delivery, attempt, thenClose: `farewell ${farewell} sent` };
    }
    return { kind: 'delivered', delivery, attempt };
  }
  if (status === 410) {
    // The receiver says the channel is gone for good: retrying for a day would only load it.
    return { kind: 'close', delivery, attempt, reason: 'the receiver answered 410 Gone' };
  }
  const now = rules.clock.now();
  const failingSince = delivery.channel.failingSince ?? at;
  const policy = {
    ...rules.policy,
    windowMs: channelRetryWindow(rules.policy.windowMs, dialect?.retryWindowMs),
  };
  const decision = decideAfterFailure(policy, {
    now,
    failingSince,
    attempts: delivery.attempts + 1,
    retryAfterMs: parseRetryAfter(retryAfter, now),
    random: rules.random(),
  });
  if (decision.kind === 'close') {
    const given = dialect?.giveUp?.(delivery);
    if (given) return { kind: 'drop', delivery, attempt, notice: given.notice };
    return { kind: 'close', delivery, attempt, reason: decision.reason };
  }
  return { kind: 'retry', delivery, attempt, retryAt: decision.at, failingSince };
}
