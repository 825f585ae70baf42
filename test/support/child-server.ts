import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const bin = fileURLToPath(new URL('../../bin/calpush.js', import.meta.url));

/** A real `calpush serve` in a child process, as users run it. */
export class ChildServer {
  readonly url: string;
  readonly process: ChildProcess;
  private constructor(child: ChildProcess, url: string) {
    this.process = child;
    this.url = url;
  }

  static async start(dataDir: string, env: NodeJS.ProcessEnv = {}): Promise<ChildServer> {
    const child = spawn(
      process.execPath,
      [bin, 'serve', '--dev', '--port', '0', '--data', dataDir, '--log-level', 'warn'],
      { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
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

  /** Ends the process the hard way: no shutdown hooks, no flushing (a crash). */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    if (this.process.exitCode !== null || this.process.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      this.process.once('exit', () => resolve());
      this.process.kill(signal);
    });
  }
}
