/** A real `calpush serve --dev` child process, as users run it. */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const bin = fileURLToPath(new URL('../bin/calpush.js', import.meta.url));

export interface ServerOptions {
  readonly dataDir: string;
  readonly env?: Record<string, string>;
  /** Directory for a V8 CPU profile of the server (written on clean exit). */
  readonly cpuProfDir?: string | undefined;
}

export class BenchServer {
  readonly url: string;
  readonly child: ChildProcess;
  private constructor(child: ChildProcess, url: string) {
    this.child = child;
    this.url = url;
  }

  static async start(opts: ServerOptions): Promise<BenchServer> {
    const nodeArgs = opts.cpuProfDir ? ['--cpu-prof', '--cpu-prof-dir', opts.cpuProfDir] : [];
    const child = spawn(
      process.execPath,
      [...nodeArgs, bin, 'serve', '--dev', '--port', '0', '--data', opts.dataDir],
      {
        env: { ...process.env, CALPUSH_LOG_LEVEL: 'error', ...opts.env },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => {
      if (process.env.BENCH_VERBOSE) process.stderr.write(d);
      stderr += d.toString();
      if (stderr.length > 20_000) stderr = stderr.slice(-10_000);
    });
    const url = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout?.on('data', (d: Buffer) => {
        out += d.toString();
        const match = /listening on (http:\/\/\S+)/.exec(out);
        if (match?.[1]) resolve(match[1]);
      });
      child.once('exit', (code) => reject(new Error(`serve exited with ${code}: ${stderr}`)));
    });
    return new BenchServer(child, url);
  }

  /** Resident set size in bytes, from /proc. */
  rss(): number {
    const status = readFileSync(`/proc/${this.child.pid}/status`, 'utf8');
    const kb = /VmRSS:\s+(\d+)/.exec(status)?.[1];
    return Number(kb ?? 0) * 1024;
  }

  /** CPU seconds (user + system) the server has used so far, from /proc. */
  cpuSeconds(): number {
    const stat = readFileSync(`/proc/${this.child.pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
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
