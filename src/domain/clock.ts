/** Time enters the domain only through a Clock, so rules stay testable without sleeping. */
export interface Clock {
  now(): number;
  /**
   * Milliseconds on a clock that only moves forward at a steady rate, from an arbitrary
   * origin: what a node measures its own intervals on (how long it may still count on a
   * lease), so a step of the wall clock cannot stretch them. Without it, `now`.
   */
  monotonic?(): number;
}

export const systemClock: Clock = { now: () => Date.now(), monotonic: () => performance.now() };

/** The clock's steady reading (see `Clock.monotonic`). */
export function monotonicNow(clock: Clock): number {
  return clock.monotonic ? clock.monotonic() : clock.now();
}

/** A clock tests move by hand. */
export class ManualClock implements Clock {
  #now: number;
  constructor(start = Date.UTC(2026, 0, 1)) {
    this.#now = start;
  }
  now(): number {
    return this.#now;
  }
  advance(ms: number): void {
    this.#now += ms;
  }
  set(ms: number): void {
    this.#now = ms;
  }
}
