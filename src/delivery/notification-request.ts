import type { Delivery, RenderedRequest } from '../domain/delivery.ts';
import { notificationIdText, publicNotificationId } from '../domain/delivery.ts';
import type { DeliveryDialect } from '../domain/dialect.ts';
import type { DeliverySecrets } from './delivery-secrets.ts';

/** Each registered dialect by name: how it renders, and which statuses mean received. */
export type DeliveryDialects = Readonly<Record<string, DeliveryDialect>>;

export const NOTIFICATION_ID_HEADER = 'calpush-notification-id';
/** Set on a notification sent again by an operator or the client: receivers may tell it. */
export const REPLAY_HEADER = 'calpush-replay';
/** Set on a test notification a client or operator asked for. */
export const TEST_HEADER = 'calpush-test';

/** The dialect a delivery's channel speaks; a name none registered is an attempt that fails. */
function dialectOf(dialects: DeliveryDialects, delivery: Delivery): DeliveryDialect {
  const dialect = dialects[delivery.channel.dialect];
  if (!dialect) throw new Error(`no dialect ${delivery.channel.dialect} is registered`);
  return dialect;
}

/** The request a delivery sends: its dialect's rendering plus the headers every one carries. */
export function requestFor(
  dialects: DeliveryDialects,
  secrets: DeliverySecrets,
  delivery: Delivery,
): RenderedRequest {
  const dialect = dialectOf(dialects, delivery);
  const rendered = dialect.render(delivery, secrets.of(delivery), (member) => secrets.of(member));
  // A rendering is made for this request alone: its headers take the common ones in place
  // rather than being copied into a new object for every notification.
  rendered.headers[NOTIFICATION_ID_HEADER] = notificationIdText(publicNotificationId(delivery));
  if (delivery.purpose === 'replay') rendered.headers[REPLAY_HEADER] = '1';
  else if (delivery.purpose === 'test') rendered.headers[TEST_HEADER] = '1';
  rendered.headers['user-agent'] = 'calpush';
  return rendered;
}
