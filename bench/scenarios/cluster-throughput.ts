/**
 * Scenario 1 on PostgreSQL with one or more nodes (`--database-url`): the same backlog of one
 * change per channel, recorded through the core over a fresh database before the nodes start.
 * Nodes started one after another would each begin on the backlog at its own time, so it is
 * held back until all are up (every channel's due time pushed years ahead), then released
 * with one update and signalled: every node sees the whole backlog at once.
 * Rate = notifications received / (last − first arrival), as on SQLite.
 */
import { sql } from 'kysely';
import type { BenchContext } from '../context.ts';
import { BenchCluster, deliveryCost } from '../cluster.ts';
import type { DeliveryCost } from '../cluster.ts';
import { BenchDatabase } from '../postgres.ts';
import type { BenchStore } from '../setup.ts';
import { chunks } from '../../src/store/list-lengths.ts';
import { insertAccounts, insertChannels, openBenchStore, recordChanges } from '../setup.ts';

const HOLD_BACK_MS = 10 * 365 * 86_400_000;
/** Changes per transaction: each takes its account's lock until commit. */
const CHANGES_PER_TRANSACTION = 500;
/** Transactions at once: the set-up's time, not a figure. */
const RECORDERS = 4;

/** Moves every queued channel's due time by `ms`. */
async function shiftDueTimes(b: BenchStore, ms: number): Promise<void> {
  await b.store.db
    .updateTable('channels')
    .set({ queue_due_at: sql<number>`queue_due_at + ${ms}` })
    .where('queue_due_at', 'is not', null)
    .execute();
}

/**
 * Accounts, channels and one change each recorded through the core in `database`, held back
 * until `release`.
 */
async function prepareBacklog(
  ctx: BenchContext,
  opts: { database: BenchDatabase; dir: string; n: number; tag: string },
): Promise<{ release(): Promise<void> }> {
  const setupStart = performance.now();
  const b = await openBenchStore(opts.dir, opts.database.url);
  const accounts = await insertAccounts(b, opts.n, opts.tag);
  await insertChannels(
    b,
    accounts.map((accountId, i) => ({
      accountId,
      callbackUrl: `${ctx.receiver.okUrl}/ok/${opts.tag}-${i}`,
    })),
    opts.tag,
  );
  const batches = chunks(accounts, CHANGES_PER_TRANSACTION);
  await Promise.all(
    Array.from({ length: RECORDERS }, async () => {
      for (let batch = batches.shift(); batch; batch = batches.shift()) {
        await recordChanges(b, batch);
      }
    }),
  );
  await shiftDueTimes(b, HOLD_BACK_MS);
  const autovacuum = await opts.database.settle();
  ctx.log(
    `  set-up: ${opts.n} accounts and channels, ${opts.n} changes recorded through the core in ` +
      `${opts.database.name}, vacuumed and analyzed${autovacuum ? '' : ' (the server runs no autovacuum)'}, ` +
      `in ${((performance.now() - setupStart) / 1000).toFixed(1)} s`,
  );
  return {
    async release() {
      await shiftDueTimes(b, -HOLD_BACK_MS);
      b.store.queueSignal?.signal();
      await b.store.close();
    },
  };
}

export interface ClusterThroughput {
  readonly rate: number;
  readonly cost: DeliveryCost;
  /** Shares of the machine's CPU time over the drain: idle, and used by other processes. */
  readonly idle: number;
  readonly elsewhere: number;
}

export async function clusterThroughput(
  ctx: BenchContext,
  opts: { adminUrl: string; nodes: number; tag: string },
): Promise<ClusterThroughput> {
  const n = Math.round(50_000 * ctx.scale);
  const dir = ctx.scratch(opts.tag);
  const database = await BenchDatabase.create(opts.adminUrl);
  try {
    const backlog = await prepareBacklog(ctx, { database, dir, n, tag: opts.tag });
    const cluster = await BenchCluster.start(ctx, { database, dataDir: dir, nodes: opts.nodes });
    try {
      ctx.receiver.reset();
      const watch = await cluster.watch();
      await backlog.release();
      const s = await ctx.receiver.expect(opts.tag, n, 240_000);
      const shares = await watch.stop(s.count);
      if (s.count < n) ctx.log(`  only ${s.count} of ${n} arrived within 240 s`);
      const capacity = shares.wallSeconds * shares.cores;
      return {
        rate: (s.count * 1000) / Math.max(1, s.last - s.first),
        cost: deliveryCost(shares, Math.max(1, s.count)),
        idle: shares.idle / capacity,
        elsewhere: shares.elsewhere / capacity,
      };
    } finally {
      await cluster.stop();
    }
  } finally {
    await database.drop();
  }
}
