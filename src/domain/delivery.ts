import type { NotificationKind } from './notification.ts';
import type { OpenedSecrets } from './secrets.ts';
import type { NotificationPurpose } from './attempt-log.ts';

/** A further notification of the same channel sent in the same request (a batch). */
export interface BatchedNotification {
  readonly notificationId: number;
  readonly kind: NotificationKind;
  readonly changesSince: number | null;
  /** The latest change it covers, for a dialect that asked (`withLatestSeq`). */
  readonly latestSeq?: number | null;
}

/** A claimed notification with everything needed to render, sign and send it. */
export interface Delivery {
  readonly notificationId: number;
  readonly kind: NotificationKind;
  readonly changesSince: number | null;
  /** The latest change it covers, for a dialect that asked (`withLatestSeq`). */
  readonly latestSeq?: number | null;
  /** Attempts made before this one. */
  readonly attempts: number;
  /** When the notification was queued: the commit of the change that caused it. */
  readonly createdAt?: number;
  readonly channel: {
    readonly id: string;
    /** The name of the dialect that renders it. */
    readonly dialect: string;
    /** The id the client knows the channel by (its own choice in some dialects). */
    readonly publicId: string;
    readonly clientId: string;
    readonly callbackUrl: string;
    readonly origin: string;
    /** The dialect's own settings for the channel, as it stored them (parsed, frozen). */
    readonly interest: unknown;
    /** A value the client chose to have echoed back with every notification, sealed. */
    readonly sealedToken: string | null;
    readonly expiresAt: number | null;
    readonly failingSince: number | null;
  };
  /** The client's active secrets, oldest first, sealed: opened only to sign. */
  readonly sealedSecrets: readonly string[];
  /**
   * The lease the claim took on the channel, as the store stamped it (on a shared store, from
   * the database's clock): it names the lease, and outcomes release only this one. Never
   * compared with a node's clock.
   */
  readonly leaseUntil: number;
  /** A replay's original notification: its id goes on the wire. */
  readonly replayOf?: number | null;
  /** Queued as a replay or a test rather than by a change. */
  readonly purpose?: NotificationPurpose | null;
  /**
   * Until when the claiming node can count on holding the lease, on its steady clock
   * (`monotonicNow`): its reading taken before the claim was sent, plus the lease's length.
   * The store stamped the lease later than that reading, so this ends no later than the
   * lease, whatever the clocks' skew. A send must fit before it.
   */
  readonly heldUntil: number;
  /**
   * For a dialect that batches: the channel's next queued notifications, oldest first, sent
   * in the same request after this one and sharing its outcome. Empty otherwise.
   */
  readonly batched?: readonly BatchedNotification[];
  /**
   * For a dialect that batches across channels: other channels' deliveries to the same
   * address, claimed together and sent in this same request. Each has its own outcome.
   */
  readonly alongside?: readonly Delivery[];
}

/** A delivery and those sent in its request for other channels. */
export function membersOf(delivery: Delivery): Delivery[] {
  return delivery.alongside ? [delivery, ...delivery.alongside] : [delivery];
}

export interface AttemptRecord {
  readonly at: number;
  readonly status: number | null;
  readonly error: string | null;
  readonly latencyMs: number;
  /** The start of a failed answer's body, when it had one. */
  readonly excerpt?: string | null;
}

/** The id a notification is known by on the wire and in the log: a replay keeps its original's. */
export function publicNotificationId(delivery: Delivery): number {
  return delivery.replayOf ?? delivery.notificationId;
}

/** A notification id as the APIs, the logs and `Calpush-Notification-Id` spell it: `ntf_123`. */
export function notificationIdText(id: number): string {
  return `ntf_${id}`;
}

/** How a finished attempt changes the queue. */
export type Completion =
  | {
      readonly kind: 'delivered';
      readonly delivery: Delivery;
      readonly attempt: AttemptRecord;
      /** The channel ends with this delivery (its dialect's farewell), for this reason. */
      readonly thenClose?: string;
    }
  | {
      readonly kind: 'retry';
      readonly delivery: Delivery;
      readonly attempt: AttemptRecord;
      readonly retryAt: number;
      readonly failingSince: number;
    }
  | {
      readonly kind: 'close';
      readonly delivery: Delivery;
      readonly attempt: AttemptRecord;
      readonly reason: string;
    }
  | {
      /** Given up on this notification alone: the channel lives on, `notice` is queued. */
      readonly kind: 'drop';
      readonly delivery: Delivery;
      readonly attempt: AttemptRecord;
      readonly notice: NotificationKind | null;
    };

/** The request a dialect makes of a notification. */
export interface RenderedRequest {
  /**
   * Where it goes when not to the channel's callback URL: a dialect with a second address
   * for some of its messages (Graph's lifecycle notifications). Concurrency is still counted
   * against the callback URL's origin.
   */
  readonly url?: string;
  readonly headers: Record<string, string>;
  /** Exact bytes to send and sign; undefined for an empty body. */
  readonly body: string | undefined;
}

/**
 * Renders with the delivery's secrets opened. Returns new headers on every call: the
 * dispatcher adds its own to them in place.
 */
/**
 * Renders a delivery with its opened secrets; `secretsOf` opens those of each other delivery
 * the request carries (heads of other channels sent alongside, see `membersOf`).
 */
export type Renderer = (
  delivery: Delivery,
  secrets: OpenedSecrets,
  secretsOf: (member: Delivery) => OpenedSecrets,
) => RenderedRequest;
