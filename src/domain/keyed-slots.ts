interface Waiting<T> {
  readonly item: T;
  readonly since: number;
}

/**
 * A bound on how many items run at once per key (a callback origin, an upstream host), so
 * one key that hangs only ever holds its own slots. Items that arrive while their key is at
 * the bound wait in a queue per key and start, oldest first, as its slots free up; one that
 * waited longer than `maxWaitMs` is handed back instead of started.
 *
 * It knows nothing of what an item is or what running one means, and reads no clock: each
 * call that needs the time is given it.
 */
export class KeyedSlots<T> {
  readonly #bound: number;
  readonly #maxWaitMs: number;
  readonly #running = new Map<string, number>();
  readonly #waiting = new Map<string, Waiting<T>[]>();
  #waitingCount = 0;

  constructor(bound: number, maxWaitMs: number) {
    this.#bound = bound;
    this.#maxWaitMs = maxWaitMs;
  }

  /** Takes a slot of `key` if one is free; false when the key is at its bound. */
  tryTake(key: string): boolean {
    const running = this.#running.get(key) ?? 0;
    if (running >= this.#bound) return false;
    this.#running.set(key, running + 1);
    return true;
  }

  /** Queues an item until a slot of `key` frees up; `now` is when it started waiting. */
  wait(key: string, item: T, now: number): void {
    const queue = this.#waiting.get(key) ?? [];
    queue.push({ item, since: now });
    this.#waiting.set(key, queue);
    this.#waitingCount++;
  }

  /**
   * Frees a slot of `key` and hands it to the oldest item waiting for it, which the caller
   * then starts; undefined if none waits. Items ahead of it that waited longer than
   * `maxWaitMs` leave the queue too and are appended to `stale`, for the caller to hand back.
   */
  release(key: string, now: number, stale: T[]): T | undefined {
    const queue = this.#waiting.get(key);
    const oldest = now - this.#maxWaitMs;
    let next: Waiting<T> | undefined;
    while ((next = queue?.shift())) {
      this.#waitingCount--;
      if (next.since >= oldest) break;
      stale.push(next.item);
      next = undefined;
    }
    if (queue && queue.length === 0) this.#waiting.delete(key);
    if (next) return next.item;
    const left = (this.#running.get(key) ?? 1) - 1;
    if (left > 0) this.#running.set(key, left);
    else this.#running.delete(key);
    return undefined;
  }

  /** Drops the waiting items `drop` picks; they free no slot, since they held none. */
  dropWaiting(drop: (item: T) => boolean): void {
    for (const [key, queue] of this.#waiting) {
      const kept = queue.filter((w) => !drop(w.item));
      this.#waitingCount -= queue.length - kept.length;
      if (kept.length > 0) this.#waiting.set(key, kept);
      else this.#waiting.delete(key);
    }
  }

  /** The keys at their bound: nothing more of theirs can start now. */
  saturated(): string[] {
    const out: string[] = [];
    for (const [key, n] of this.#running) if (n >= this.#bound) out.push(key);
    return out;
  }

  /** Items waiting for a slot, over every key. */
  get waiting(): number {
    return this.#waitingCount;
  }
}
