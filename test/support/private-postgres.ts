import { execFile } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { freePort } from './free-port.ts';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Debian's server binaries, newest version first. */
function binDir(): string | null {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return null;
  const versions = readdirSync(root)
    .filter((v) => existsSync(join(root, v, 'bin', 'pg_ctl')))
    .sort((a, b) => Number(b) - Number(a));
  return versions[0] ? join(root, versions[0], 'bin') : null;
}

/** As root the server runs as `postgres` (it refuses root); otherwise as this user. */
function asServerUser(): { prefix: string[]; uid?: number; gid?: number } | string {
  if (process.getuid?.() !== 0) return { prefix: [] };
  if (!existsSync('/usr/sbin/runuser') && !existsSync('/sbin/runuser')) {
    return 'runuser is missing: as root the server must run as postgres';
  }
  return { prefix: ['runuser', '-u', 'postgres', '--'] };
}

/** Why a private server cannot run here, or null when it can. */
export function privatePostgresUnavailable(): string | null {
  if (!binDir()) return 'no PostgreSQL server binaries under /usr/lib/postgresql/*/bin';
  const user = asServerUser();
  return typeof user === 'string' ? user : null;
}

/**
 * A PostgreSQL cluster of the test's own, on a free loopback port with trust auth, which the
 * test may stop and start (the machine's shared server must not be). Commits skip fsync: a
 * restart is what it is for, not durability of the disk.
 */
export class PrivatePostgres {
  readonly port: number;
  readonly #dir: string;
  readonly #bin: string;
  readonly #prefix: string[];

  private constructor(dir: string, port: number, bin: string, prefix: string[]) {
    this.#dir = dir;
    this.port = port;
    this.#bin = bin;
    this.#prefix = prefix;
  }

  /** The admin URL (database `postgres`, user `postgres`). */
  get adminUrl(): string {
    return `postgres://postgres@127.0.0.1:${this.port}/postgres`;
  }

  static async create(): Promise<PrivatePostgres> {
    const bin = binDir();
    const user = asServerUser();
    if (!bin || typeof user === 'string') {
      throw new Error(privatePostgresUnavailable() ?? 'unavailable');
    }
    const dir = mkdtempSync(join(tmpdir(), 'calpush-pg-'));
    if (user.prefix.length > 0) {
      const { stdout } = await run('id', ['-u', 'postgres']);
      const { stdout: gid } = await run('id', ['-g', 'postgres']);
      chownSync(dir, Number(stdout.trim()), Number(gid.trim()));
    }
    const server = new PrivatePostgres(dir, await freePort(), bin, user.prefix);
    await server.#run('initdb', ['-D', server.#data, '-A', 'trust', '-U', 'postgres', '--no-sync']);
    await server.start();
    return server;
  }

  get #data(): string {
    return join(this.#dir, 'data');
  }

  async #run(tool: string, args: string[]): Promise<string> {
    const [cmd, ...rest] = [...this.#prefix, join(this.#bin, tool), ...args];
    const { stdout } = await run(cmd!, rest, { cwd: this.#dir, timeout: 60_000 });
    return stdout;
  }

  async start(): Promise<void> {
    const options = [
      `-p ${this.port}`,
      `-k ${this.#dir}`,
      `-c listen_addresses=127.0.0.1`,
      `-c fsync=off`,
      `-c max_connections=200`,
    ].join(' ');
    await this.#run('pg_ctl', [
      '-D',
      this.#data,
      '-o',
      options,
      '-l',
      join(this.#dir, 'log'),
      '-w',
      'start',
    ]);
  }

  /** `fast`: sessions are ended and the server shuts down cleanly; `immediate`: as a crash. */
  async stop(mode: 'fast' | 'immediate'): Promise<void> {
    await this.#run('pg_ctl', ['-D', this.#data, '-m', mode, '-w', 'stop']);
  }

  async destroy(): Promise<void> {
    await this.stop('immediate').catch(() => undefined);
    rmSync(this.#dir, { recursive: true, force: true });
  }
}
