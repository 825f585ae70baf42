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
 *
 * With `postgres`, the same on that many nodes over a fresh PostgreSQL database, the API
 * writes spread over the nodes in turn (a change is delivered by whichever node claims it),
 * and no raw loop: its reference is the SQLite run's.
 */
import type { BenchContext } from '../context.ts';
import { runScript } from '../context.ts';
import { percentile, sleep, wallNow } from '../clock.ts';
import { BenchServer } from '../server.ts';
import { BenchCluster } from '../cluster.ts';
import { BenchDatabase } from '../postgres.ts';
import { createWatchedAccounts, openBenchStore } from '../setup.ts';
import { arrivalsByChannel, commitTimesByAccount, coveredLatencies } from '../change-arrivals.ts';
import { ApiClient } from '../api-client.ts';
import type { Arrival } from '../receiver.ts';

interface Quantiles {
  readonly p50: number;
  readonly p95: number;
  readonly p99: number;
}

/** Where scenario 2 runs instead of one server over SQLite. */
export interface LatencyOnPostgres {
  readonly adminUrl: string;
  readonly nodes: number;
}

export interface LatencyResult {
  readonly p50: number;
  readonly p95: number;
  readonly p99: number;
  readonly max: number;
  readonly changes: number;
  /** Changes committed per second, first to last: below the rate sent when the API lags. */
  readonly committedPerSecond: number;
  readonly uncovered: number;
  readonly errors: number;
  /** The raw loop's one-way latencies; none on PostgreSQL. */
  readonly base: Quantiles | null;
  /** The same latencies measured from the moment each API request was sent. */
  readonly fromSend: Quantiles;
  /** API round trips (request sent → response received). */
  readonly api: { p50: number; p99: number };
}

/** Events per second from the first time to the last. */
function ratePerSecond(times: readonly number[]): number {
  if (times.length < 2) return Number.NaN;
  const span = Math.max(...times) - Math.min(...times);
  return ((times.length - 1) * 1000) / Math.max(1, span);
}

function quantiles(sorted: readonly number[]): Quantiles {
  return { p50: percentile(sorted, 50), p95: percentile(sorted, 95), p99: percentile(sorted, 99) };
}

export async function latency(
  ctx: BenchContext,
  postgres?: LatencyOnPostgres,
): Promise<LatencyResult> {
  const database = postgres ? await BenchDatabase.create(postgres.adminUrl) : undefined;
  try {
    return await measureLatency(ctx, database && postgres ? { database, ...postgres } : undefined);
  } finally {
    await database?.drop();
  }
}

async function measureLatency(
  ctx: BenchContext,
  postgres: (LatencyOnPostgres & { database: BenchDatabase }) | undefined,
): Promise<LatencyResult> {
  const channels = Math.round(1000 * ctx.scale);
  // Scaled with the channels so each still gets one change a second, as in the full run: more
  // would measure the quiet interval after each delivery (CALPUSH_MIN_INTERVAL_MS) instead.
  const rate = Math.round(1000 * ctx.scale);
  const seconds = 30 * ctx.scale;
  const dir = ctx.scratch('lat');
  const databaseUrl = postgres?.database.url;
  const b = await openBenchStore(dir, databaseUrl);
  const targets = await createWatchedAccounts(b, {
    accounts: channels,
    channelsPerAccount: 1,
    tag: 'l',
    callbackUrl: (i) => `${ctx.receiver.okUrl}/ok/lat-${i}`,
  });
  const accountIndex = new Map(targets.map((t, i) => [t.accountId, i]));
  await b.store.close();
  const analyzed = await postgres?.database.settle();
  ctx.log(
    `  set-up: ${channels} accounts and channels created through the core` +
      (analyzed === undefined ? '' : ', the database vacuumed and analyzed'),
  );

  ctx.receiver.reset();
  const env = { CALPUSH_RATE_LIMIT: '0' };
  const cluster = postgres
    ? await BenchCluster.start(ctx, {
        database: postgres.database,
        dataDir: dir,
        nodes: postgres.nodes,
        env,
      })
    : undefined;
  const servers = cluster
    ? cluster.servers
    : [await BenchServer.start({ dataDir: dir, env, cpuProfDir: ctx.cpuProfDir })];
  const stopServers = () =>
    cluster ? cluster.stop() : Promise.all(servers.map((s) => s.stop())).then(() => undefined);
  let arrivals: Arrival[];
  let start: number;
  const sent: number[][] = targets.map(() => []);
  const roundTrips: number[] = [];
  let errors = 0;
  const total = Math.round(rate * seconds);
  try {
    await ctx.receiver.expect('lat', channels, 30_000); // the verifications
    await sleep(500);
    ctx.receiver.reset();

    // Writes go to the nodes in turn; each client names its events apart.
    const apis = servers.map((s, n) => new ApiClient(s.url, 64, `bench${n}`));
    const watch = await cluster?.watch();
    const pending: Promise<void>[] = [];
    start = wallNow();
    for (let k = 0; k < total; k++) {
      const due = start + (k * 1000) / rate;
      const wait = due - wallNow();
      if (wait > 1) await sleep(wait);
      const i = k % channels;
      const sentAt = wallNow();
      sent[i]!.push(sentAt);
      pending.push(
        apis[k % apis.length]!.upsertEvent(targets[i]!).then(
          (status) => {
            roundTrips.push(wallNow() - sentAt);
            if (status !== 202) errors++;
          },
          () => void errors++,
        ),
      );
    }
    await Promise.all(pending);
    await Promise.all(apis.map((api) => api.close()));
    // Wait for the tail: until nothing new arrives for half a second.
    let last = -1;
    for (;;) {
      await sleep(500);
      const { count } = await ctx.receiver.stats('lat');
      if (count === last) break;
      last = count;
    }
    // Per notification received: what each part pays, and the rate two cores would allow.
    await watch?.stop(last);
    arrivals = await ctx.receiver.arrivals('lat');
  } finally {
    await stopServers();
  }

  const byChannel = arrivalsByChannel(arrivals, targets.length);
  const { committed, times } = await commitTimesByAccount(
    { dataDir: dir, databaseUrl },
    accountIndex,
    start,
  );
  const fromCommit = coveredLatencies(committed, byChannel);
  const fromSend = coveredLatencies(sent, byChannel);
  roundTrips.sort((x, y) => x - y);

  const measured = {
    ...quantiles(fromCommit.latencies),
    max: fromCommit.latencies.at(-1) ?? Number.NaN,
    changes: times.length,
    committedPerSecond: ratePerSecond(times),
    uncovered: Math.max(fromCommit.uncovered, fromSend.uncovered),
    errors,
    fromSend: quantiles(fromSend.latencies),
    api: { p50: percentile(roundTrips, 50), p99: percentile(roundTrips, 99) },
  };
  if (postgres) return { ...measured, base: null };
  ctx.receiver.reset();
  await runScript('./baseline.ts', { url: `${ctx.receiver.okUrl}/ok/lbase`, rate, seconds });
  const bs = await ctx.receiver.expect('lbase', total, 30_000);
  const base = [...bs.latencies].sort((x, y) => x - y);
  return { ...measured, base: quantiles(base) };
}
