import type { Executor } from './schema.ts';
import { traitsOf } from './engine-traits.ts';

/**
 * A statement's text grows with the lists bound into it (`id in (?, ?, …)`, a multi-row
 * VALUES), so each length is a statement of its own: compiled by the SQL builder, prepared
 * by SQLite and kept in both caches, each holding its own program. 256 lengths of one
 * release statement held 14.6 MB in SQLite alone, and a server's first scenario 1 drain
 * prepared ~400 of them. Lists are bound at power-of-two lengths instead: one length per
 * power of two, nine up to 256 items, ten up to 512.
 */

/** SQLite caps bound parameters per statement; batches stay well under it on every engine. */
export const CHUNK = 400;

/** `items` in consecutive batches of `size`, the last one shorter. */
export function chunks<T>(items: readonly T[], size = CHUNK): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** The next power of two at or above `n` (n ≥ 1). */
function ceilPowerOfTwo(n: number): number {
  return 2 ** Math.ceil(Math.log2(n));
}

/**
 * `items` padded to a power-of-two length with copies of the last one. Only for lists whose
 * repeats change nothing: the right side of `IN` or `NOT IN` (of values that are never null).
 */
export function padToPowerOfTwo<T>(items: readonly T[]): T[] {
  const padded = [...items];
  const last = items.at(-1);
  if (last === undefined) return padded;
  const size = ceilPowerOfTwo(items.length);
  while (padded.length < size) padded.push(last);
  return padded;
}

/**
 * `items` cut into runs of power-of-two lengths, longest first, none longer than `max` (a
 * power of two): rows to insert, which must not repeat. 100 rows are three statements
 * (64, 32, 4).
 */
export function powerOfTwoRuns<T>(items: readonly T[], max: number): T[][] {
  if (!Number.isInteger(Math.log2(max))) throw new RangeError(`run cap ${max} is no power of two`);
  const runs: T[][] = [];
  let start = 0;
  while (start < items.length) {
    const size = Math.min(max, 2 ** Math.floor(Math.log2(items.length - start)));
    runs.push(items.slice(start, start + size));
    start += size;
  }
  return runs;
}

/**
 * Rows to insert in one statement each run: power-of-two runs on SQLite, where statement
 * texts are prepared and kept; elsewhere runs of `max`, since PostgreSQL does not keep the
 * texts and each more statement is one more round trip while the rows' locks are held.
 */
export function insertRuns<T>(db: Executor, items: readonly T[], max: number): T[][] {
  if (traitsOf(db).keepsStatementTexts) return powerOfTwoRuns(items, max);
  return chunks(items, max);
}
