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
   * Starts watching the machine; `stop` logs the CPU each part used meanwhile and the
   * backends' average activity.
   */
  async watch(): Promise<{ stop(): Promise<void> }> {
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
      stop: async () => {
        const shares = await window.close(cpus().length);
        const { average, samples } = await activity.stop();
        this.#ctx.log(`  ${describeShares(shares)}`);
        const states = average
          .slice(0, 6)
          .map((a) => `${a.state} ${a.backends.toFixed(2)}`)
          .join(', ');
        this.#ctx.log(
          `  the nodes' backends, average number in each state over ${samples} samples: ` +
            (states || 'all idle'),
        );
      },
    };
  }

  async stop(): Promise<void> {
    await Promise.all(this.servers.map((s) => s.stop()));
  }
}
