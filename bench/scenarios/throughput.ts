/**
 * Scenarios 1 and 4. N channels (one per account) each get one change, recorded through the
 * core's change log (`recordChange`, which fills the outbox in the same transaction) before
 * the server starts: the API is not what this measures, the delivery engine draining a
 * backlog of N notifications is. Rate = notifications received / (last − first arrival).
 * With `hangShare`, that share of the channels points at an endpoint that accepts
 * connections and never answers (scenario 4); only the healthy ones are counted. With
 * `graphShare`, that share of the accounts has a Graph subscription instead of a Cronofy
 * channel, all to one notification URL as Graph applications have them, drained in the
 * same run; the receiver counts Graph items, not POSTs, and each dialect's own rate is
 * reported beside the total.
 */
import type { BenchContext } from '../context.ts';
import { runScript } from '../context.ts';
import { BenchServer } from '../server.ts';
import {
  insertAccounts,
  insertChannels,
  insertGraphSubscriptions,
  openBenchStore,
  recordChanges,
} from '../setup.ts';
import type { PrefixStats } from '../receiver.ts';

export interface ThroughputResult {
  readonly rate: number;
  readonly baseline: number;
  /** With `graphShare`: each dialect's rate over its own arrivals. */
  readonly byDialect?: { readonly cronofy: number; readonly graph: number };
}

const rateOf = (s: PrefixStats) => (s.count * 1000) / Math.max(1, s.last - s.first);

const CONCURRENCY = 128; // calpush's default per-origin bound; the raw loop gets the same.

export async function rawBurstRate(ctx: BenchContext, n: number, tag: string): Promise<number> {
  ctx.receiver.reset();
  await runScript('./baseline.ts', {
    url: `${ctx.receiver.okUrl}/ok/${tag}`,
    count: n,
    concurrency: CONCURRENCY,
  });
  const s = await ctx.receiver.expect(tag, n, 60_000);
  return (s.count * 1000) / (s.last - s.first);
}

export async function throughput(
  ctx: BenchContext,
  opts: { hangShare: number; tag: string; baseline?: number; graphShare?: number },
): Promise<ThroughputResult> {
  const n = Math.round(50_000 * ctx.scale);
  const dir = ctx.scratch(opts.tag);
  const setupStart = performance.now();
  const b = await openBenchStore(dir);
  const accounts = await insertAccounts(b, n, opts.tag);
  const every = opts.hangShare > 0 ? Math.round(1 / opts.hangShare) : 0;
  const hung = (i: number) => every > 0 && i % every === every - 1;
  const graphEvery = opts.graphShare ? Math.round(1 / opts.graphShare) : 0;
  const graph = (i: number) => graphEvery > 0 && !hung(i) && i % graphEvery === 0;
  const graphTag = `${opts.tag}g`;
  await insertChannels(
    b,
    accounts
      .map((accountId, i) => ({
        accountId,
        callbackUrl: hung(i)
          ? `${ctx.receiver.hangUrl}/hang/${opts.tag}h-${i}`
          : `${ctx.receiver.okUrl}/ok/${opts.tag}-${i}`,
      }))
      .filter((_, i) => !graph(i)),
    opts.tag,
  );
  const graphAccounts = accounts.filter((_, i) => graph(i));
  // Graph applications point every subscription at one notification URL.
  await insertGraphSubscriptions(
    b,
    graphAccounts.map((accountId) => ({
      accountId,
      callbackUrl: `${ctx.receiver.okUrl}/items/${graphTag}-all`,
    })),
    graphTag,
  );
  await recordChanges(b, accounts);
  await b.store.close();
  const healthy = accounts.filter((_, i) => !hung(i)).length;
  const cronofyHealthy = healthy - graphAccounts.length;
  ctx.log(
    `  set-up: ${n} accounts, ${n} channels (${n - healthy} hanging, ` +
      `${graphAccounts.length} Graph subscriptions) inserted, ${n} changes ` +
      `recorded through the core in ${((performance.now() - setupStart) / 1000).toFixed(1)} s`,
  );

  ctx.receiver.reset();
  const server = await BenchServer.start({
    dataDir: dir,
    cpuProfDir: ctx.cpuProfDir,
  });
  const cpuAtStart = server.cpuSeconds();
  const [cronofyStats, graphStats] = await Promise.all([
    ctx.receiver.expect(opts.tag, cronofyHealthy, 240_000),
    graphAccounts.length > 0
      ? ctx.receiver.expect(graphTag, graphAccounts.length, 240_000)
      : Promise.resolve(null),
  ]);
  const s = graphStats
    ? {
        count: cronofyStats.count + graphStats.count,
        first: Math.min(cronofyStats.first, graphStats.first),
        last: Math.max(cronofyStats.last, graphStats.last),
      }
    : cronofyStats;
  const cpu = server.cpuSeconds() - cpuAtStart;
  await server.stop();
  ctx.log(
    `  server CPU while draining: ${cpu.toFixed(2)} s, ` +
      `${((cpu * 1e6) / Math.max(1, s.count)).toFixed(1)} µs per notification`,
  );
  const rate = (s.count * 1000) / (s.last - s.first);
  if (s.count < healthy) ctx.log(`  only ${s.count} of ${healthy} arrived within 240 s`);
  const baseline = opts.baseline ?? (await rawBurstRate(ctx, n, `${opts.tag}base`));
  if (!graphStats) return { rate, baseline };
  return {
    rate,
    baseline,
    byDialect: { cronofy: rateOf(cronofyStats), graph: rateOf(graphStats) },
  };
}
