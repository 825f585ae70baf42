import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const bin = fileURLToPath(new URL('../../bin/calpush.js', import.meta.url));

export interface ChildServerOptions {
  /** Flags for Node itself (a CPU profile, say). */
  readonly nodeArgs?: readonly string[];
  readonly logLevel?: string;
  /** Sees the child's stderr as it comes. */
  readonly onStderr?: (chunk: Buffer) => void;
  /** An IPC channel to the child, as `fork` gives one. */
  readonly ipc?: boolean;
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
        '0',
        '--data',
        dataDir,
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
        out += d.toString();
        const match = /listening on (http:\/\/\S+)/.exec(out);
        if (match?.[1]) resolve(match[1]);
      });
      child.once('exit', (code) => reject(new Error(`serve exited with ${code}: ${stderr}`)));
    });
    return new ChildServer(child, url);
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
