/** The longest a failing source waits between polls. */
export const MAX_BACKOFF_MS = 60 * 60 * 1000;

/**
 * An interval with ±10 % jitter (`random` in [0, 1)), so sources added together do not stay
 * in step and poll their servers all at once.
 */
export function withJitter(intervalMs: number, random: number): number {
  return Math.round(intervalMs * (0.9 + 0.2 * random));
}

/**
 * After `failures` failed polls in a row: the interval doubled per failure, capped at an
 * hour (never below the interval itself), with jitter.
 */
export function pollBackoffMs(intervalMs: number, failures: number, random: number): number {
  const doubled = intervalMs * 2 ** Math.min(Math.max(failures - 1, 0), 20);
  return withJitter(Math.max(intervalMs, Math.min(doubled, MAX_BACKOFF_MS)), random);
}
