/**
 * Matching changes to the notifications that followed them, for the scenarios that time a
 * change from its commit to its arrival (2 and 10). Channel i's receiver path ends in `-i`;
 * account i's changes are read back from the change log, where their commit times are.
 */
import { openStore } from '../src/store/store.ts';
import type { StoreOptions } from '../src/store/store.ts';

/** Arrival times by channel index (the number after the path's last `-`), each sorted. */
export function arrivalsByChannel(
  arrivals: readonly { path: string; at: number }[],
  channels: number,
): number[][] {
  const out: number[][] = Array.from({ length: channels }, () => []);
  for (const a of arrivals) out[Number(a.path.slice(a.path.lastIndexOf('-') + 1))]?.push(a.at);
  for (const got of out) got.sort((x, y) => x - y);
  return out;
}

/**
 * Each change's latency: the first notification of its channel that arrived after it,
 * sorted; `uncovered` counts changes no notification followed.
 */
export function coveredLatencies(
  changes: readonly (readonly number[])[],
  arrivals: readonly (readonly number[])[],
): { latencies: number[]; uncovered: number } {
  const latencies: number[] = [];
  let uncovered = 0;
  changes.forEach((made, i) => {
    let j = 0;
    for (const at of arrivals[i] ?? []) {
      while (j < made.length && made[j]! < at) latencies.push(at - made[j++]!);
    }
    uncovered += made.length - j;
  });
  latencies.sort((x, y) => x - y);
  return { latencies, uncovered };
}

/**
 * Commit times of the event changes made since `start`: by the index `accountIndex` gives
 * each account, and all of them, in commit order. Read once the store's servers have stopped.
 */
export async function commitTimesByAccount(
  storeOptions: StoreOptions,
  accountIndex: ReadonlyMap<string, number>,
  start: number,
): Promise<{ committed: number[][]; times: number[] }> {
  const committed: number[][] = Array.from({ length: accountIndex.size }, () => []);
  const store = await openStore(storeOptions);
  try {
    const rows = await store.db
      .selectFrom('changes')
      .select(['account_id', 'at'])
      .where('resource', '=', 'event')
      .where('at', '>=', Math.floor(start))
      .orderBy('seq')
      .execute();
    for (const row of rows) {
      const i = accountIndex.get(row.account_id);
      if (i !== undefined) committed[i]!.push(Number(row.at));
    }
    return { committed, times: rows.map((r) => Number(r.at)) };
  } finally {
    await store.close();
  }
}
