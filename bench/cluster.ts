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
    return {
      stop: async (delivered?: number) => {
        const shares = await window.close(cpus().length);
        const { average, samples } = await activity.stop();
        for (const line of describeShares(shares)) this.#ctx.log(`  ${line}`);
        const states = average
          .slice(0, 6)
          .map((a) => `${a.state} ${a.backends.toFixed(2)}`)
          .join(', ');
        this.#ctx.log(
          `  the nodes' backends, average number in each state over ${samples} samples: ` +
            (states || 'all idle'),
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

/**
 * CPU per notification of the receiver, the nodes together and the database (its backends
 * for these nodes), and the rate the machine's cores would allow at that cost.
 */
function perNotification(s: CpuShares, delivered: number): string {
  const seconds = (name: (g: string) => boolean) =>
    s.groups.filter((g) => name(g.name)).reduce((sum, g) => sum + g.seconds, 0);
  const parts = {
    receiver: seconds((g) => g === 'receiver'),
    nodes: seconds((g) => g.startsWith('node ')),
    postgres: seconds((g) => g === 'postgres for these nodes'),
  };
  const us = (v: number) => `${Math.round((v * 1e6) / delivered)} µs`;
  const total = parts.receiver + parts.nodes + parts.postgres;
  return (
    `CPU per notification: receiver ${us(parts.receiver)}, nodes ${us(parts.nodes)}, ` +
    `postgres ${us(parts.postgres)}; ${us(total)} in all, so ${s.cores} cores with nothing ` +
    `else running would allow at most ${Math.round((s.cores * delivered) / total).toLocaleString('en-US')}/s`
  );
}
