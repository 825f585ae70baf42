import type { Completion } from '../domain/delivery.ts';
import { membersOf, notificationIdText, publicNotificationId } from '../domain/delivery.ts';
import type { Logger } from '../log.ts';
import type { HttpSender, SendResult } from './http-sender.ts';
import type { InFlight } from './in-flight-requests.ts';
import type { OutcomeRules } from './classify-outcome.ts';
import { classifyOutcome } from './classify-outcome.ts';
import { requestFor } from './notification-request.ts';
import type { DeliverySecrets } from './delivery-secrets.ts';

/** What one attempt needs beyond the outcome rules; the dispatcher's deps carry all of it. */
export interface AttemptDeps extends OutcomeRules {
  readonly sender: HttpSender;
  readonly logger: Logger;
  readonly secrets: DeliverySecrets;
}

/**
 * Sends one head (render, send) and hands its outcome to `finished`, on a later turn than
 * the call at the earliest; never rejects. A request shared by several channels' heads has
 * one outcome per head; none (null) when nothing was sent: the request came to its
 * connection too late for its lease, and the claims go back unsent.
 */
export async function attemptDelivery(
  deps: AttemptDeps,
  entry: InFlight,
  finished: (entry: InFlight, completions: readonly Completion[] | null) => void,
): Promise<void> {
  const { delivery } = entry;
  const { clock, dialects, sender, logger, secrets } = deps;
  const at = clock.now();
  let result: SendResult;
  try {
    const { url, headers, body } = requestFor(dialects, secrets, delivery);
    result = await sender.send(url ?? delivery.channel.callbackUrl, headers, body, entry.handle);
  } catch (err) {
    result = { error: err instanceof Error ? err.message : String(err) };
    logger.error(
      {
        err,
        notification: notificationIdText(publicNotificationId(delivery)),
        channel: delivery.channel.id,
      },
      'delivery attempt crashed',
    );
    // A render or send that throws at once would otherwise finish inside the call that
    // started it, and the slot it frees would start the next waiting delivery from there:
    // one more level of stack per delivery waiting for that origin.
    await Promise.resolve();
  }
  if (result.unsent) {
    finished(entry, null);
    return;
  }
  const latencyMs = performance.now() - entry.startedAt;
  const completions = membersOf(delivery).map((d) => {
    const completion = classifyOutcome(deps, d, result, at, latencyMs);
    const notification = () => notificationIdText(publicNotificationId(d));
    if (completion.kind === 'close') {
      logger.warn(
        { notification: notification(), channel: d.channel.id, reason: completion.reason },
        'channel closed',
      );
    }
    // Follows one notification through its attempts; free unless debug is on.
    if (logger.isLevelEnabled('debug')) {
      logger.debug(
        {
          notification: notification(),
          channel: d.channel.id,
          kind: d.kind,
          status: completion.attempt.status,
          error: completion.attempt.error,
          outcome: completion.kind,
          latencyMs: Math.round(latencyMs),
        },
        'delivery attempt',
      );
    }
    return completion;
  });
  finished(entry, completions);
}
