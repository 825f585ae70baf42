import type { Clock } from '../domain/clock.ts';
import { monotonicNow } from '../domain/clock.ts';
import type { Delivery } from '../domain/delivery.ts';

/**
 * How long a send of `delivery` may still take, started now, with `timeoutMs` kept for the
 * send itself; zero or less when its lease may end before the send could. Measured on the
 * node's steady clock from before its claim (`heldUntil`), never against the lease's stamp,
 * so no skew between this node's clock and the database's or another node's changes it.
 */
export function sendRoom(delivery: Delivery, clock: Clock, timeoutMs: number): number {
  return delivery.heldUntil - monotonicNow(clock) - timeoutMs;
}
