import type { EventRow } from './events.ts';
import { expandRow } from './occurrence-rows.ts';

/**
 * How many occurrences a series has in a window, for a page count. Counting walks the whole
 * window, the costly part of expanding, while a page walks only its own length; yet the same
 * series is counted for the same window again and again (each full read's first page counts
 * every series, and Cronofy's default window moves once a day). The answer depends only on
 * the series' timing and the window, so it is kept under exactly those: a changed series has
 * another key, never a stale count.
 */

const counts = new Map<string, number>();
/** Entries kept before starting afresh: a few MB at most. */
const MAX_COUNTS = 10_000;

export function occurrenceCount(series: EventRow, window: { from: number; to: number }): number {
  // JSON text never holds a raw newline, so the parts cannot run into each other.
  const key = [
    window.from,
    window.to,
    series.start_json,
    series.end_json,
    series.recurrence_json,
  ].join('\n');
  let count = counts.get(key);
  if (count === undefined) {
    count = expandRow(series, window).length;
    if (counts.size >= MAX_COUNTS) counts.clear();
    counts.set(key, count);
  }
  return count;
}
