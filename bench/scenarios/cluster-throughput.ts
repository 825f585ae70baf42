/**
 * Scenario 1 on PostgreSQL with one or more nodes (`--database-url`): the same backlog of one
 * change per channel over a fresh database. The nodes start first, over accounts and channels
 * only; the changes are then recorded through the core in one transaction and signalled, so
 * every node sees the whole backlog at once (nodes started one after another would not).
 * Rate = notifications received / (last − first arrival), as on SQLite.
 */
import type { BenchContext } from '../context.ts';
import { BenchCluster } from '../cluster.ts';
import { BenchDatabase } from '../postgres.ts';
import { insertAccounts, insertChannels, openBenchStore, recordChanges } from '../setup.ts';

export async function clusterThroughput(
  ctx: BenchContext,
  opts: { adminUrl: string; nodes: number; tag: string },
): Promise<number> {
  const n = Math.round(50_000 * ctx.scale);
  const dir = ctx.scratch(opts.tag);
  const database = await BenchDatabase.create(opts.adminUrl);
  try {
    const setupStart = performance.now();
    const b = await openBenchStore(dir, database.url);
    const accounts = await insertAccounts(b, n, opts.tag);
    await insertChannels(
      b,
      accounts.map((accountId, i) => ({
        accountId,
        callbackUrl: `${ctx.receiver.okUrl}/ok/${opts.tag}-${i}`,
      })),
      opts.tag,
    );
    const cluster = await BenchCluster.start(ctx, { database, dataDir: dir, nodes: opts.nodes });
    try {
      ctx.receiver.reset();
      const recordStart = performance.now();
      await recordChanges(b, accounts);
      const watch = await cluster.watch();
      b.store.queueSignal?.signal();
      await b.store.close();
      ctx.log(
        `  set-up: ${n} accounts and channels in ${database.name}, ${opts.nodes} node(s) started, ` +
          `${n} changes recorded through the core in ${((performance.now() - recordStart) / 1000).toFixed(1)} s ` +
          `(${((performance.now() - setupStart) / 1000).toFixed(1)} s in all)`,
      );
      const s = await ctx.receiver.expect(opts.tag, n, 240_000);
      await watch.stop();
      if (s.count < n) ctx.log(`  only ${s.count} of ${n} arrived within 240 s`);
      return (s.count * 1000) / Math.max(1, s.last - s.first);
    } finally {
      await cluster.stop();
    }
  } finally {
    await database.drop();
  }
}
