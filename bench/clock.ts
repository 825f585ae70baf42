/**
 * Where this process's `performance.now()` starts on the wall clock. Not
 * `performance.timeOrigin`: under load the process can be descheduled while Node reads the
 * two clocks at start-up, and origins tens or hundreds of milliseconds apart were seen on a
 * busy machine, which broke latencies measured between processes. Read here at the instant
 * `Date.now()` ticks to the next millisecond, a few times; the largest reading is the one
 * least delayed between the two clock reads.
 */
function wallOrigin(): number {
  let best = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < 5; i++) {
    const before = Date.now();
    let now = Date.now();
    while (now === before) now = Date.now();
    best = Math.max(best, now - performance.now());
  }
  return best;
}
const origin = wallOrigin();

/** Wall-clock milliseconds with sub-millisecond resolution, comparable across processes. */
export function wallNow(): number {
  return origin + performance.now();
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i] ?? Number.NaN;
}
