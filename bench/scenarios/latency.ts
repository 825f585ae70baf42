/**
 * Scenario 2. One channel on each of N accounts (created through the core, as the Cronofy
 * face would); a steady stream of event upserts through the public API, round-robin over
 * the accounts. Latency runs from the change's commit to the receiver's arrival time, both
 * on the machine's wall clock: the commit is stamped by the change log's `at`, which the
 * server takes inside the writing transaction, before the commit (so the figure errs long,
 * by the commit itself and by truncation to whole milliseconds). The same figures measured
 * from the moment the API request was sent are reported beside them: they add the API's
 * own queueing and parsing, which scenario 5 measures. A notification covers every change of
 * its channel made before it arrived and not covered yet (coalescing).
 */
import type { BenchContext } from '../context.ts';
import { runScript } from '../context.ts';
import { percentile, sleep, wallNow } from '../clock.ts';
import { BenchServer } from '../server.ts';
import { createWatchedAccounts, openBenchStore } from '../setup.ts';
import { openStore } from '../../src/store/store.ts';
import { ApiClient } from '../api-client.ts';

export interface LatencyResult {
  readonly p50: number;
  readonly p95: number;
  readonly p99: number;
  readonly max: number;
  readonly changes: number;
  readonly uncovered: number;
  readonly errors: number;
  readonly base: { p50: number; p95: number; p99: number };
  /** The same latencies measured from the moment each API request was sent. */
  readonly fromSend: { p50: number; p95: number; p99: number };
  /** API round trips (request sent → response received). */
  readonly api: { p50: number; p99: number };
}

/** Latency of every change: arrival of the first notification after it, per channel. */
function coveredLatencies(
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

function quantiles(sorted: readonly number[]) {
  return { p50: percentile(sorted, 50), p95: percentile(sorted, 95), p99: percentile(sorted, 99) };
}

export async function latency(ctx: BenchContext): Promise<LatencyResult> {
  const channels = Math.round(1000 * ctx.scale);
  // Scaled with the channels so each still gets one change a second, as in the full run: more
  // would measure the quiet interval after each delivery (CALPUSH_MIN_INTERVAL_MS) instead.
  const rate = Math.round(1000 * ctx.scale);
  const seconds = 30 * ctx.scale;
  const dir = ctx.scratch('lat');
  const b = await openBenchStore(dir);
  const targets = await createWatchedAccounts(b, {
    accounts: channels,
    channelsPerAccount: 1,
    tag: 'l',
    callbackUrl: (i) => `${ctx.receiver.okUrl}/ok/lat-${i}`,
  });
  const accountIndex = new Map(targets.map((t, i) => [t.accountId, i]));
  await b.store.close();
  ctx.log(`  set-up: ${channels} accounts and channels created through the core`);

  ctx.receiver.reset();
  const server = await BenchServer.start({
    dataDir: dir,
    env: { CALPUSH_RATE_LIMIT: '0' },
    cpuProfDir: ctx.cpuProfDir,
  });
  await ctx.receiver.expect('lat', channels, 30_000); // the verifications
  await sleep(500);
  ctx.receiver.reset();

  const api = new ApiClient(server.url, 64);
  const total = Math.round(rate * seconds);
  const sent: number[][] = targets.map(() => []);
  const roundTrips: number[] = [];
  let errors = 0;
  const pending: Promise<void>[] = [];
  const start = wallNow();
  for (let k = 0; k < total; k++) {
    const due = start + (k * 1000) / rate;
    const wait = due - wallNow();
    if (wait > 1) await sleep(wait);
    const i = k % channels;
    const sentAt = wallNow();
    sent[i]!.push(sentAt);
    pending.push(
      api.upsertEvent(targets[i]!).then(
        (status) => {
          roundTrips.push(wallNow() - sentAt);
          if (status !== 202) errors++;
        },
        () => void errors++,
      ),
    );
  }
  await Promise.all(pending);
  await api.close();
  // Wait for the tail: until nothing new arrives for half a second.
  let last = -1;
  for (;;) {
    await sleep(500);
    const { count } = await ctx.receiver.stats('lat');
    if (count === last) break;
    last = count;
  }
  const arrivals = await ctx.receiver.arrivals('lat');
  await server.stop();

  const byChannel: number[][] = targets.map(() => []);
  for (const a of arrivals)
    byChannel[Number(a.path.slice(a.path.lastIndexOf('-') + 1))]!.push(a.at);
  for (const got of byChannel) got.sort((x, y) => x - y);

  const committed: number[][] = targets.map(() => []);
  const after = await openStore({ dataDir: dir });
  const rows = await after.db
    .selectFrom('changes')
    .select(['account_id', 'at'])
    .where('resource', '=', 'event')
    .where('at', '>=', Math.floor(start))
    .orderBy('seq')
    .execute();
  await after.close();
  for (const row of rows) {
    const i = accountIndex.get(row.account_id);
    if (i !== undefined) committed[i]!.push(Number(row.at));
  }
  const fromCommit = coveredLatencies(committed, byChannel);
  const fromSend = coveredLatencies(sent, byChannel);
  roundTrips.sort((x, y) => x - y);

  ctx.receiver.reset();
  await runScript('./baseline.ts', { url: `${ctx.receiver.okUrl}/ok/lbase`, rate, seconds });
  const bs = await ctx.receiver.expect('lbase', total, 30_000);
  const base = [...bs.latencies].sort((x, y) => x - y);
  return {
    ...quantiles(fromCommit.latencies),
    max: fromCommit.latencies.at(-1) ?? Number.NaN,
    changes: rows.length,
    uncovered: Math.max(fromCommit.uncovered, fromSend.uncovered),
    errors,
    base: quantiles(base),
    fromSend: quantiles(fromSend.latencies),
    api: { p50: percentile(roundTrips, 50), p99: percentile(roundTrips, 99) },
  };
}
