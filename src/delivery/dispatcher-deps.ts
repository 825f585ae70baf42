import type { Clock } from '../domain/clock.ts';
import type { Db } from '../store/schema.ts';
import type { Logger } from '../log.ts';
import type { RetryPolicy } from '../domain/retry-policy.ts';
import type { HttpSender } from './http-sender.ts';
import type { DeliveryDialects } from './notification-request.ts';
import type { DeliverySecrets } from './delivery-secrets.ts';

export interface DispatcherLimits {
  readonly maxInFlight: number;
  readonly maxInFlightPerOrigin: number;
  readonly claimBatch: number;
  readonly leaseMs: number;
  readonly timeoutMs: number;
  /** After a delivery, the channel's next notification waits at least this long. */
  readonly minIntervalMs: number;
  /**
   * Shortest time from one claim's start to the next. A claim is a transaction whose cost is
   * mostly fixed (begin, commit, the walk to the head of the due index): under a steady
   * trickle of changes each would take a single channel, and the claims alone kept the
   * thread busy. Spaced, the changes that arrive meanwhile share one; when claims are further
   * apart than this, nothing waits.
   */
  readonly claimSpacingMs: number;
}

export interface DispatcherDeps {
  readonly db: Db;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Each registered dialect by name: how it renders, and which statuses mean received. */
  readonly dialects: DeliveryDialects;
  readonly sender: HttpSender;
  /** Opens the client secrets and channel tokens the store keeps sealed. */
  readonly secrets: DeliverySecrets;
  readonly policy: RetryPolicy;
  readonly limits: DispatcherLimits;
  readonly random: () => number;
  /** Single-node stores free every lease at start; shared stores wait for them to expire. */
  readonly releaseLeasesOnStart: boolean;
  /** Shared stores lock claimed rows (SKIP LOCKED) so nodes never claim the same channel. */
  readonly lockClaimedRows: boolean;
}
