import type { Delivery } from '../domain/delivery.ts';
import { membersOf } from '../domain/delivery.ts';
import type { RequestHandle } from './http-sender.ts';

/** A delivery on the wire. */
export interface InFlight {
  readonly delivery: Delivery;
  readonly handle: RequestHandle;
  readonly startedAt: number;
  /** Its dialect's own limit, when shorter than the engine's. */
  readonly timeoutMs?: number | undefined;
  /** Settles once the outcome is among the results. */
  task?: Promise<void>;
}

/** The requests on the wire: what a close or a timeout aborts, and what a stop waits for. */
export class InFlightRequests {
  readonly #byNotification = new Map<number, InFlight>();

  get size(): number {
    return this.#byNotification.size;
  }

  add(entry: InFlight): void {
    this.#byNotification.set(entry.delivery.notificationId, entry);
  }

  delete(entry: InFlight): void {
    this.#byNotification.delete(entry.delivery.notificationId);
  }

  /** Aborts the requests of these channels. */
  abortChannels(channelIds: ReadonlySet<string>): void {
    for (const entry of this.#byNotification.values()) {
      // A request shared by several channels is aborted for any of them: it cannot be
      // taken back for one alone, and the others are retried.
      if (membersOf(entry.delivery).some((d) => channelIds.has(d.channel.id))) {
        entry.handle.abort(new Error('channel closed'));
      }
    }
  }

  /**
   * Aborts the requests that started (performance.now()) more than `timeoutMs` (or their
   * dialect's shorter limit) before `now`.
   */
  abortOverdue(now: number, timeoutMs: number): void {
    for (const entry of this.#byNotification.values()) {
      const limit = entry.timeoutMs ?? timeoutMs;
      if (entry.startedAt < now - limit) {
        entry.handle.abort(new Error(`timed out after ${limit} ms`));
      }
    }
  }

  /** Settles once every request now on the wire has its outcome among the results. */
  async settled(): Promise<void> {
    const tasks: Promise<void>[] = [];
    for (const entry of this.#byNotification.values()) if (entry.task) tasks.push(entry.task);
    await Promise.allSettled(tasks);
  }
}
