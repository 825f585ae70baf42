import type { Delivery, RenderedRequest } from '../../domain/delivery.ts';
import type { OpenedSecrets } from '../../domain/secrets.ts';
import { googleInterestOf } from './interest.ts';

/**
 * Google push messages carry everything in X-Goog-* headers and have no body. The sync
 * message is number 1; later messages use the notification's id, which grows strictly
 * within a channel (numbers need not be consecutive).
 */
export function renderGoogleNotification(
  delivery: Delivery,
  secrets: OpenedSecrets,
): RenderedRequest {
  const { channel } = delivery;
  const interest = googleInterestOf(channel.interest);
  const headers: Record<string, string> = {
    'x-goog-channel-id': channel.publicId,
    'x-goog-message-number': delivery.kind === 'sync' ? '1' : String(delivery.notificationId),
    'x-goog-resource-id': interest.resourceId,
    'x-goog-resource-uri': interest.resourceUri,
    'x-goog-resource-state': delivery.kind,
  };
  if (channel.expiresAt !== null) {
    headers['x-goog-channel-expiration'] = new Date(channel.expiresAt).toUTCString();
  }
  if (secrets.token !== null) headers['x-goog-channel-token'] = secrets.token;
  return { headers, body: undefined };
}
