/**
 * One timer for the earliest known due time in the future (a quiet interval's end, a retry's
 * backoff): arming it for a later time than it is already armed for changes nothing.
 */
export class DueTimer {
  readonly #fire: () => void;
  #timer: NodeJS.Timeout | undefined;
  /** When it fires, in performance.now() time. */
  #at = Infinity;

  constructor(fire: () => void) {
    this.#fire = fire;
  }

  get armed(): boolean {
    return this.#timer !== undefined;
  }

  /** Fires in `ms` unless already armed to fire no later. Unreferenced: it keeps no process up. */
  armIn(ms: number): void {
    const when = performance.now() + ms;
    if (this.#timer && this.#at <= when) return;
    clearTimeout(this.#timer);
    this.#at = when;
    this.#timer = setTimeout(
      () => {
        this.#timer = undefined;
        this.#at = Infinity;
        this.#fire();
      },
      Math.max(0, ms),
    );
    this.#timer.unref();
  }

  clear(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#at = Infinity;
  }
}
