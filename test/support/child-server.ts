import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { readFile } from 'node:fs/promises';
import { setTimeout as delay } from 'node:timers/promises';

const bin = fileURLToPath(new URL('../../bin/calpush.js', import.meta.url));

export interface ChildServerOptions {
  /** Flags for Node itself (a CPU profile, say). */
  readonly nodeArgs?: readonly string[];
  readonly logLevel?: string;
  /** Sees the child's stderr as it comes. */
  readonly onStderr?: (chunk: Buffer) => void;
  /** Sees the child's stdout (its log lines) as it comes. */
  readonly onStdout?: (chunk: Buffer) => void;
  /** An IPC channel to the child, as `fork` gives one. */
  readonly ipc?: boolean;
  /** Serve from this PostgreSQL database (`--database-url`) instead of SQLite. */
  readonly databaseUrl?: string;
  /** Listen on this port (its public URL known beforehand) rather than any free one. */
  readonly port?: number;
}

/** A real `calpush serve --dev` in a child process, as users run it (tests and benchmark). */
export class ChildServer {
  readonly url: string;
  readonly process: ChildProcess;
  private constructor(child: ChildProcess, url: string) {
    this.process = child;
    this.url = url;
  }

  static async start(
    dataDir: string,
    env: NodeJS.ProcessEnv = {},
    options: ChildServerOptions = {},
  ): Promise<ChildServer> {
    const child = spawn(
      process.execPath,
      [
        ...(options.nodeArgs ?? []),
        bin,
        'serve',
        '--dev',
        '--port',
        String(options.port ?? 0),
        '--data',
        dataDir,
        ...(options.databaseUrl ? ['--database-url', options.databaseUrl] : []),
        '--log-level',
        options.logLevel ?? 'warn',
      ],
      {
        env: { ...process.env, ...env },
        stdio: ['ignore', 'pipe', 'pipe', ...(options.ipc ? (['ipc'] as const) : [])],
      },
    );
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => {
      options.onStderr?.(d);
      stderr = (stderr + d.toString()).slice(-10_000);
    });
    const url = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout?.on('data', (d: Buffer) => {
        options.onStdout?.(d);
        out += d.toString();
        const match = /listening on (http:\/\/\S+)/.exec(out);
        if (match?.[1]) resolve(match[1]);
      });
      child.once('exit', (code) => reject(new Error(`serve exited with ${code}: ${stderr}`)));
    });
    return new ChildServer(child, url);
  }

  /**
   * Stops the process (SIGSTOP) and resolves once the kernel says it is stopped: from then on
   * it runs nothing, sends nothing and answers nothing, while its sockets stay open.
   */
  async pause(): Promise<void> {
    this.process.kill('SIGSTOP');
    await untilState(this.process.pid, 'T');
  }

  /** Lets a paused process run on (SIGCONT). */
  async resume(): Promise<void> {
    this.process.kill('SIGCONT');
    await untilState(this.process.pid, (s) => s !== 'T');
  }

  /** Ends the process; SIGKILL is a crash (no shutdown hooks, no flushing). */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<{ code: number | null }> {
    if (this.process.exitCode !== null || this.process.signalCode !== null) {
      return { code: this.process.exitCode };
    }
    return new Promise((resolve) => {
      this.process.once('exit', (code) => resolve({ code }));
      this.process.kill(signal);
    });
  }
}

/** The process's state letter in /proc/PID/stat (R, S, T, …): Linux, as the tests run. */
async function stateOf(pid: number): Promise<string> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  // The command name is in parentheses and may hold spaces: the state follows the last one.
  return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
}

/** Polls the process's state until it matches; a signal takes effect within microseconds. */
async function untilState(
  pid: number | undefined,
  wanted: string | ((state: string) => boolean),
): Promise<void> {
  if (pid === undefined) throw new Error('the process has no id');
  const matches = typeof wanted === 'string' ? (s: string) => s === wanted : wanted;
  for (let i = 0; !matches(await stateOf(pid)); i++) {
    if (i > 1000) throw new Error(`process ${pid} did not reach the state asked for`);
    await delay(1);
  }
}
