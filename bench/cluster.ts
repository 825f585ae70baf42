/**
 * Nodes of one installation over a bench PostgreSQL database, and what the bench prints of
 * a scenario run on them: where the CPU went (receiver, nodes, PostgreSQL) and what the
 * database's backends were doing, which together say what bounds the rate.
 */
import { cpus } from 'node:os';
import type { BenchContext } from './context.ts';
import type { BenchDatabase } from './postgres.ts';
import type { BenchServer } from './server.ts';
import { startNodes } from './server.ts';
import { CpuWindow, describeShares, postgresPids } from './cpu-window.ts';
import type { CpuShares } from './cpu-window.ts';
import { sleep } from './clock.ts';

export interface ClusterOptions {
  readonly database: BenchDatabase;
  readonly dataDir: string;
  readonly nodes: number;
  readonly env?: Record<string, string>;
}

export class BenchCluster {
  readonly servers: readonly BenchServer[];
  readonly #ctx: BenchContext;
  readonly #database: BenchDatabase;

  private constructor(ctx: BenchContext, database: BenchDatabase, servers: BenchServer[]) {
    this.#ctx = ctx;
    this.#database = database;
    this.servers = servers;
  }

  static async start(ctx: BenchContext, opts: ClusterOptions): Promise<BenchCluster> {
    const servers = await startNodes(opts.nodes, {
      dataDir: opts.dataDir,
      databaseUrl: opts.database.url,
      cpuProfDir: ctx.cpuProfDir,
      ...(opts.env ? { env: opts.env } : {}),
    });
    return new BenchCluster(ctx, opts.database, servers);
  }

  /**
   * Starts watching the machine; `stop` logs the CPU each part used meanwhile, the
   * backends' average activity and, given the notifications delivered meanwhile, the CPU
   * each took and the rate that much CPU would allow if the machine did nothing else.
   */
  async watch(): Promise<{ stop(delivered?: number): Promise<CpuShares> }> {
    const db = this.#database;
    const nodePids = this.servers.map((s) => s.child.pid ?? 0);
    const window = await CpuWindow.open(async () => {
      const ours = await db.backendPids();
      return {
        receiver: [this.#ctx.receiver.pid],
        ...Object.fromEntries(nodePids.map((pid, i) => [`node ${i + 1}`, [pid]])),
        'postgres for these nodes': ours,
        // Its WAL writer and checkpointer, and the backends of anyone else's databases.
        'postgres, rest': postgresPids(),
      };
    });
    const activity = await db.sampleActivity();
    const transactionsBefore = await db.transactions();
    return {
      stop: async (delivered?: number) => {
        const shares = await window.close(cpus().length);
        const { average, samples } = await activity.stop();
        // The server publishes its counts within a second of a transaction's end.
        await sleep(1000);
        const transactions = (await db.transactions()) - transactionsBefore;
        for (const line of describeShares(shares)) this.#ctx.log(`  ${line}`);
        const states = average
          .slice(0, 6)
          .map((a) => `${a.state} ${a.backends.toFixed(2)}`)
          .join(', ');
        const per = delivered ? `, ${(transactions / delivered).toFixed(3)} per notification` : '';
        this.#ctx.log(
          `  ${transactions.toLocaleString('en-US')} transactions${per}; the nodes' backends, ` +
            `average number in each state over ${samples} samples: ${states || 'all idle'}`,
        );
        if (delivered) this.#ctx.log(`  ${perNotification(shares, delivered)}`);
        return shares;
      },
    };
  }

  async stop(): Promise<void> {
    await Promise.all(this.servers.map((s) => s.stop()));
  }
}

/** CPU seconds per notification of the parts a delivery runs through, over one scenario. */
export interface DeliveryCost {
  readonly receiver: number;
  readonly nodes: number;
  readonly postgres: number;
  /** The rate the machine's cores would allow at that cost with nothing else running. */
  readonly ceiling: number;
}

export function deliveryCost(s: CpuShares, delivered: number): DeliveryCost {
  const seconds = (name: (g: string) => boolean) =>
    s.groups.filter((g) => name(g.name)).reduce((sum, g) => sum + g.seconds, 0) / delivered;
  const receiver = seconds((g) => g === 'receiver');
  const nodes = seconds((g) => g.startsWith('node '));
  const postgres = seconds((g) => g === 'postgres for these nodes');
  return { receiver, nodes, postgres, ceiling: s.cores / (receiver + nodes + postgres) };
}

/** The cost in µs, each part and in all. */
export function describeCost(c: DeliveryCost): string {
  const us = (v: number) => `${Math.round(v * 1e6)} µs`;
  return (
    `receiver ${us(c.receiver)}, nodes ${us(c.nodes)}, postgres ${us(c.postgres)}; ` +
    `${us(c.receiver + c.nodes + c.postgres)} in all`
  );
}

/** CPU per notification, and the rate the machine's cores would allow at that cost. */
function perNotification(s: CpuShares, delivered: number): string {
  const cost = deliveryCost(s, delivered);
  return (
    `CPU per notification: ${describeCost(cost)}, so ${s.cores} cores with nothing else ` +
    `running would allow at most ${Math.round(cost.ceiling).toLocaleString('en-US')}/s`
  );
}
