import type { Delivery, RenderedRequest } from '../../domain/delivery.ts';
import type { OpenedSecrets } from '../../domain/secrets.ts';
import { hmacHeader } from './signing.ts';
import { formatUtc } from '../../domain/time.ts';
import { channelFilters } from './serialize.ts';

/** Cronofy push body, signed over the exact bytes sent with every active client secret. */
export function renderCronofyNotification(
  delivery: Delivery,
  secrets: OpenedSecrets,
): RenderedRequest {
  const notification: Record<string, string> = { type: delivery.kind };
  if (delivery.kind === 'change' && delivery.changesSince !== null) {
    notification.changes_since = formatUtc(delivery.changesSince);
  }
  const body = JSON.stringify({
    notification,
    channel: {
      channel_id: delivery.channel.publicId,
      callback_url: delivery.channel.callbackUrl,
      filters: channelFilters(delivery.channel.interest),
    },
  });
  return {
    headers: {
      'content-type': 'application/json; charset=utf-8',
      'cronofy-hmac-sha256': hmacHeader(body, secrets.signingSecrets),
    },
    body,
  };
}
