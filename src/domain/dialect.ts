import type { ChangeFact } from './change.ts';
import type { Delivery, Renderer } from './delivery.ts';
import type { NotificationKind } from './notification.ts';

/** The notification a change queues for one channel. */
export interface PlannedNotification {
  readonly kind: NotificationKind;
  /** Whether it carries the time of the earliest change it covers (`changes_since`). */
  readonly withChangeTime: boolean;
  /**
   * Whether it carries the sequence number of the latest change it covers
   * (`Delivery.latestSeq`): a message that names the version it reports (Graph's etag).
   */
  readonly withLatestSeq?: boolean;
}

/**
 * What the core and the delivery engine need of a wire dialect. Each face declares one, and
 * the composition root registers it; nothing below the faces names a dialect.
 *
 * `I` is the dialect's channel settings (what the channel hears, and what its messages must
 * carry), which the core stores as JSON and hands back parsed and frozen.
 */
export interface Dialect<I = unknown> {
  /** Stored with each channel; never changes for a dialect. */
  readonly name: string;
  /**
   * Sent to a channel first, when it is created (a verification or sync message); null for a
   * dialect that checks its receiver before the channel exists (Graph's handshake).
   */
  readonly firstMessage: NotificationKind | null;
  /**
   * The notification a change queues for a channel with these settings; null if none. Return
   * one constant object per kind: the change log groups channels by the object it gets.
   */
  planFor(interest: I, change: ChangeFact): PlannedNotification | null;
  /** Whether a receiver's status code means the notification was delivered. */
  readonly isSuccess: (status: number) => boolean;
  readonly render: Renderer;
  /** How long a receiver has to answer, when shorter than the engine's timeout (Graph: 3 s). */
  readonly timeoutMs?: number;
  /** How long a streak of failures is retried, when shorter than the engine's window. */
  readonly retryWindowMs?: number;
  /**
   * What happens when a notification's failures outlast the retry window. Without it the
   * channel is closed. A dialect may instead drop that notification, keep the channel, and
   * queue a notice of what was lost (Graph's `missed` lifecycle notification), or none.
   */
  readonly giveUp?: (delivery: Delivery) => { readonly notice: NotificationKind | null };
  /**
   * A notice queued once, `beforeMs` before a channel's lifetime ends (and again after each
   * renewal), for channels whose settings `applies` to (Graph's reauthorizationRequired).
   */
  readonly expiryNotice?: {
    readonly beforeMs: number;
    readonly kind: NotificationKind;
    readonly applies: (interest: unknown) => boolean;
  };
  /**
   * A notice queued for a live channel when the access token that made it (or last
   * reauthorized it) is revoked while its account keeps another, for channels whose settings
   * `applies` to (Graph's reauthorizationRequired). Unset: such channels go on as they were.
   * An account left with no token has its channels closed, whatever the dialect.
   */
  readonly revocationNotice?: {
    readonly kind: NotificationKind;
    readonly applies: (interest: unknown) => boolean;
  };
  /** Whether one request may carry several of a channel's notifications; unset for one. */
  readonly batch?: BatchRule;
  /** Whether a delivered notification of this kind ends its channel (a farewell). */
  readonly isFarewell?: (kind: NotificationKind) => boolean;
  /** The dialect's error body, for errors answered before its routes see the request. */
  readonly errorBody: (status: number, message: string) => unknown;
}

/**
 * A request carries the channel's head and up to `size - 1` of its next queued notifications
 * (`Delivery.batched`), in order, while each is `sameRequest` as the head (they go to the
 * same address, say).
 */
export interface BatchRule {
  readonly size: number;
  readonly sameRequest: (head: NotificationKind, next: NotificationKind) => boolean;
  /**
   * Deliveries of several channels claimed together share one request (up to `size`
   * notifications in all) when this gives them the same key (their address, say); null
   * sends a delivery alone. Unset: each channel's request is its own.
   */
  readonly acrossChannels?: (delivery: Delivery) => string | null;
}

/** What the delivery engine needs of a dialect: how to send, and what counts as received. */
export type DeliveryDialect = Pick<
  Dialect,
  | 'render'
  | 'isSuccess'
  | 'timeoutMs'
  | 'retryWindowMs'
  | 'giveUp'
  | 'expiryNotice'
  | 'isFarewell'
  | 'batch'
>;

/** Registered dialects by name. */
export type Dialects = ReadonlyMap<string, Dialect>;
