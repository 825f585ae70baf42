import type { Delivery, RenderedRequest } from '../../domain/delivery.ts';
import type { OpenedSecrets } from '../../domain/secrets.ts';
import { membersOf } from '../../domain/delivery.ts';
import { graphInterestOf } from './interest.ts';
import { eventIdOf, parseKind } from './notification-kinds.ts';
import { graphInstant } from './graph-time.ts';

/** The tenant every calpush notification names: one self-hosted directory. */
export const CALPUSH_TENANT_ID = '00000000-0000-0000-0000-000000000000';

/** What every item about a subscription carries, change or lifecycle. */
function subscriptionFields(delivery: Delivery, clientState: string | null) {
  const { channel } = delivery;
  return {
    subscriptionId: channel.publicId,
    subscriptionExpirationDateTime:
      channel.expiresAt === null ? null : graphInstant(channel.expiresAt),
    // Kept sealed as the channel's token, opened for the request.
    clientState,
    tenantId: CALPUSH_TENANT_ID,
  };
}

/** One item of a notification POST's `value`: a change to an event, or a lifecycle event. */
export function graphItem(delivery: Delivery, clientState: string | null): Record<string, unknown> {
  const kind = parseKind(delivery.kind);
  if (kind.type === 'lifecycle') {
    return { ...subscriptionFields(delivery, clientState), lifecycleEvent: kind.event };
  }
  const interest = graphInterestOf(delivery.channel.interest);
  const resource = `Users/${interest.accountId}/${kind.path}`;
  const id = eventIdOf(kind.path);
  return {
    ...subscriptionFields(delivery, clientState),
    changeType: kind.changeType,
    resource,
    resourceData: {
      '@odata.type': '#Microsoft.Graph.Event',
      '@odata.id': resource,
      // The event's changeKey after the latest change this covers, as its reads give it;
      // a notification queued before calpush kept that names itself instead.
      '@odata.etag': `W/"${delivery.latestSeq ?? `n${delivery.notificationId}`}"`,
      ...(id === undefined ? {} : { id }),
    },
  };
}

/** Where a delivery goes: lifecycle events to the subscription's lifecycle URL. */
export function graphTarget(delivery: Delivery): string | undefined {
  if (parseKind(delivery.kind).type !== 'lifecycle') return undefined;
  return graphInterestOf(delivery.channel.interest).lifecycleUrl ?? undefined;
}

/**
 * Graph's notification POST: a JSON `value` array, one item per notification the request
 * carries (each head, what was batched with it, and the heads of other subscriptions to the
 * same URL sent alongside); each item's clientState is the receiver's check.
 */
export function renderGraphNotification(
  delivery: Delivery,
  _secrets: OpenedSecrets,
  secretsOf: (member: Delivery) => OpenedSecrets,
): RenderedRequest {
  const url = graphTarget(delivery);
  const items: Record<string, unknown>[] = [];
  for (const head of membersOf(delivery)) {
    const { token } = secretsOf(head);
    items.push(graphItem(head, token));
    for (const b of head.batched ?? []) items.push(graphItem({ ...head, ...b }, token));
  }
  const body = JSON.stringify({ value: items });
  return {
    ...(url === undefined ? {} : { url }),
    headers: { 'content-type': 'application/json; charset=utf-8' },
    body,
  };
}
