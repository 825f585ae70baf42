/** A real `calpush serve --dev` child process, as users run it, with what the bench reads. */
import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { ChildServer } from '../test/support/child-server.ts';
import { cpuSecondsOf } from './context.ts';

export interface ServerOptions {
  readonly dataDir: string;
  readonly env?: Record<string, string>;
  /** Directory for a V8 CPU profile of the server (written on clean exit). */
  readonly cpuProfDir?: string | undefined;
  readonly port?: number;
  /** Serve from this PostgreSQL database instead of SQLite under `dataDir`. */
  readonly databaseUrl?: string | undefined;
}

export class BenchServer {
  readonly url: string;
  readonly child: ChildProcess;
  private constructor(server: ChildServer) {
    this.child = server.process;
    this.url = server.url;
  }

  static async start(opts: ServerOptions): Promise<BenchServer> {
    const server = await ChildServer.start(
      opts.dataDir,
      { CALPUSH_LOG_LEVEL: 'error', ...opts.env },
      {
        nodeArgs: opts.cpuProfDir ? ['--cpu-prof', '--cpu-prof-dir', opts.cpuProfDir] : [],
        logLevel: 'error',
        ...(opts.port ? { port: opts.port } : {}),
        ...(opts.databaseUrl ? { databaseUrl: opts.databaseUrl } : {}),
        onStderr: (d) => {
          if (process.env.BENCH_VERBOSE) process.stderr.write(d);
        },
      },
    );
    return new BenchServer(server);
  }

  /** Resident set size in bytes, from /proc. */
  rss(): number {
    const status = readFileSync(`/proc/${this.child.pid}/status`, 'utf8');
    const kb = /VmRSS:\s+(\d+)/.exec(status)?.[1];
    return Number(kb ?? 0) * 1024;
  }

  /** CPU seconds (user + system) the server has used so far, from /proc. */
  cpuSeconds(): number {
    return cpuSecondsOf(this.child.pid ?? 0);
  }

  /** SIGTERM: the server drains and exits (and writes its CPU profile if asked). */
  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 15_000);
    await exited;
    clearTimeout(timer);
  }
}

/** `count` servers over one store (PostgreSQL: nodes of one installation), started at once. */
export function startNodes(count: number, opts: ServerOptions): Promise<BenchServer[]> {
  return Promise.all(Array.from({ length: count }, () => BenchServer.start(opts)));
}
