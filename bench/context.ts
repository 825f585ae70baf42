/** What every scenario gets: the receiver, the scale, a scratch directory and a reporter. */
import { fork, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Arrival, PrefixStats, ReceiverCommand, ReceiverMessage } from './receiver.ts';

export interface Figure {
  readonly scenario: string;
  readonly name: string;
  readonly unit: string;
  readonly value: number;
  /** The same figure for the raw loop in the same run (or the reference named in `note`). */
  readonly baseline: number | null;
  /** value / baseline. */
  readonly ratio: number | null;
  readonly target: string | null;
  /** null when the figure has no target of its own. */
  readonly pass: boolean | null;
  readonly note?: string;
}

export class ReceiverProcess {
  readonly okUrl: string;
  readonly hangUrl: string;
  readonly #child: ChildProcess;
  readonly #listeners = new Set<(m: ReceiverMessage) => void>();

  private constructor(child: ChildProcess, okPort: number, hangPort: number) {
    this.#child = child;
    this.okUrl = `http://127.0.0.1:${okPort}`;
    this.hangUrl = `http://127.0.0.1:${hangPort}`;
    child.on('message', (m: ReceiverMessage) => {
      for (const l of [...this.#listeners]) l(m);
    });
  }

  static async start(): Promise<ReceiverProcess> {
    const child = fork(fileURLToPath(new URL('./receiver.ts', import.meta.url)), [], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const ready = await new Promise<ReceiverMessage & { op: 'ready' }>((resolve, reject) => {
      child.once('message', (m: ReceiverMessage) => {
        if (m.op === 'ready') resolve(m);
      });
      child.once('exit', (code) => reject(new Error(`receiver exited with ${code}`)));
    });
    return new ReceiverProcess(child, ready.okPort, ready.hangPort);
  }

  #ask<T extends ReceiverMessage['op']>(
    cmd: ReceiverCommand,
    op: T,
    match: (m: ReceiverMessage & { op: T }) => boolean = () => true,
    timeoutMs = 0,
  ): Promise<(ReceiverMessage & { op: T }) | undefined> {
    return new Promise((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      const listener = (m: ReceiverMessage) => {
        if (m.op === op && match(m as ReceiverMessage & { op: T })) {
          this.#listeners.delete(listener);
          if (timer) clearTimeout(timer);
          resolve(m as ReceiverMessage & { op: T });
        }
      };
      this.#listeners.add(listener);
      if (timeoutMs > 0) {
        timer = setTimeout(() => {
          this.#listeners.delete(listener);
          resolve(undefined);
        }, timeoutMs);
      }
      this.#child.send(cmd);
    });
  }

  get pid(): number {
    return this.#child.pid ?? 0;
  }

  /** CPU seconds the receiver has used so far. */
  cpuSeconds(): number {
    return cpuSecondsOf(this.#child.pid ?? 0);
  }

  reset(): void {
    this.#child.send({ op: 'reset' } satisfies ReceiverCommand);
  }

  async stats(prefix: string): Promise<PrefixStats> {
    const m = await this.#ask({ op: 'stats', prefix }, 'stats');
    return m!.stats;
  }

  async arrivals(prefix: string): Promise<Arrival[]> {
    const m = await this.#ask({ op: 'arrivals', prefix }, 'arrivals');
    return m!.arrivals;
  }

  /** Waits until `count` requests with this prefix arrived; on timeout returns what came. */
  async expect(prefix: string, count: number, timeoutMs: number): Promise<PrefixStats> {
    const m = await this.#ask(
      { op: 'expect', prefix, count },
      'reached',
      (r) => r.prefix === prefix,
      timeoutMs,
    );
    return m ? m.stats : this.stats(prefix);
  }

  stop(): void {
    this.#child.disconnect();
  }
}

export interface BenchContext {
  readonly quick: boolean;
  /** 1 for the full run, 0.1 for --quick. */
  readonly scale: number;
  readonly receiver: ReceiverProcess;
  readonly cpuProfDir: string | undefined;
  readonly workDir: string;
  scratch(name: string): string;
  report(figure: Figure): void;
  log(line: string): void;
}

export function scratchDir(workDir: string, name: string): string {
  return mkdtempSync(join(workDir, `${name}-`));
}

const here = (file: string) => fileURLToPath(new URL(file, import.meta.url));

/** CPU seconds (user + system) a process has used so far, from /proc. */
export function cpuSecondsOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** Runs a bench helper script with one JSON argument; resolves with its stdout. */
export function runScript(file: string, arg: unknown): Promise<string> {
  return runProcess(file, [JSON.stringify(arg)]);
}

/** Runs a bench script in its own Node process; resolves with its stdout. */
export function runProcess(file: string, args: readonly string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [here(file), ...args], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.once('exit', (code) =>
      code === 0 ? resolve(out) : reject(new Error(`${file} exited with ${code}`)),
    );
  });
}
