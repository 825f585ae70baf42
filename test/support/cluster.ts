import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { loadConfig } from '../../src/config/config.ts';
import { createService } from '../../src/service.ts';
import { createLogger } from '../../src/log.ts';
import { createClient } from '../../src/core/clients.ts';
import { createAccount } from '../../src/core/accounts.ts';
import { ChildServer } from './child-server.ts';
import type { TestDatabase } from './postgres.ts';
import { createTestDatabase } from './postgres.ts';

export interface ClusterAccount {
  readonly accountId: string;
  readonly calendarId: string;
  readonly accessToken: string;
}

export interface ClusterOptions {
  readonly nodes: number;
  readonly accounts: number;
  readonly channelsPerAccount: number;
  /** Where every channel's callbacks go: `${callbackBase}/a<account>/c<channel>`. */
  readonly callbackBase: string;
  /** The nodes' environment (lease, bounds, concurrency). */
  readonly env: NodeJS.ProcessEnv;
  /** The server to make the database on, when not the machine's (a private one). */
  readonly adminUrl?: string;
  /** The URL node `index` reaches the database by (through a proxy, say); the database's. */
  readonly nodeDatabaseUrl?: (index: number, url: string) => string;
}

/**
 * Every notification row ever inserted, kept by a trigger on the test's own database: rows a
 * merge deletes (a retried or handed-back head absorbs the changes queued behind it) are
 * still counted, so a change whose row vanished unsent shows up as lost.
 */
const INSERT_LOG = `
create table test_notification_log (
  id bigint primary key, channel_id text not null, kind text not null, created_at bigint not null);
create function test_log_notification() returns trigger language plpgsql as $$
begin
  insert into test_notification_log values (new.id, new.channel_id, new.kind, new.created_at);
  return new;
end $$;
create trigger test_log_notification after insert on notifications
  for each row execute function test_log_notification();`;

/** The test's own connection; a server that goes away is an error of a query, not a crash. */
async function connect(url: string): Promise<pg.Client> {
  const sql = new pg.Client({ connectionString: url });
  sql.on('error', () => undefined);
  await sql.connect();
  return sql;
}

/**
 * Real `calpush serve --dev --database-url …` processes on one throwaway PostgreSQL database,
 * with accounts and channels made through their HTTP API. The test keeps a connection of its
 * own (`sql`) for the counts and for ending the nodes' sessions.
 */
export class Cluster {
  readonly nodes: ChildServer[];
  /** Each node's log lines at warn level and above (pino JSON), by node index. */
  readonly logs: string[][] = [];
  readonly accounts: readonly ClusterAccount[];
  readonly database: TestDatabase;
  sql: pg.Client;
  readonly #dataDir: string;
  readonly #env: NodeJS.ProcessEnv;
  readonly #nodeUrl: (index: number, url: string) => string;

  private constructor(
    parts: Pick<Cluster, 'nodes' | 'accounts' | 'database' | 'sql'>,
    dataDir: string,
    env: NodeJS.ProcessEnv,
    nodeUrl: (index: number, url: string) => string = (_, url) => url,
  ) {
    this.nodes = parts.nodes;
    this.accounts = parts.accounts;
    this.database = parts.database;
    this.sql = parts.sql;
    this.#dataDir = dataDir;
    this.#env = env;
    this.#nodeUrl = nodeUrl;
  }

  static async start(options: ClusterOptions): Promise<Cluster> {
    const database = await createTestDatabase(
      options.adminUrl ? { adminUrl: options.adminUrl } : {},
    );
    const dataDir = mkdtempSync(join(tmpdir(), 'calpush-cluster-'));
    // Every node seals source credentials with the same key, as an operator must set it.
    const env = {
      CALPUSH_RATE_LIMIT: '0',
      CALPUSH_SECRET_KEY: randomBytes(32).toString('base64'),
      ...options.env,
    };
    // The schema, a client and its accounts, written by a service that is never started.
    const seeder = await createService(
      loadConfig({ dataDir, databaseUrl: database.url, dev: true, logLevel: 'silent' }, env),
      { logger: createLogger('silent') },
    );
    const client = await createClient(seeder.core, 'cluster test');
    const accounts: ClusterAccount[] = [];
    for (let a = 0; a < options.accounts; a++) {
      accounts.push(
        await createAccount(seeder.core, { clientId: client.clientId, email: `a${a}@example.com` }),
      );
    }
    await seeder.stop();
    const sql = await connect(database.url);
    await sql.query(INSERT_LOG);
    const cluster = new Cluster(
      { nodes: [], accounts, database, sql },
      dataDir,
      env,
      options.nodeDatabaseUrl,
    );
    await Promise.all(Array.from({ length: options.nodes }, (_, i) => cluster.replace(i)));
    const nodes = cluster.nodes;
    // Channels made on every node in turn, a few at a time.
    const made = accounts.flatMap((account, a) =>
      Array.from({ length: options.channelsPerAccount }, (_, c) => ({ account, a, c })),
    );
    for (let i = 0; i < made.length; i += 8) {
      await Promise.all(
        made.slice(i, i + 8).map(async ({ account, a, c }, k) => {
          const node = nodes[(i + k) % nodes.length]!;
          const res = await cluster.api(node, account, 'POST', '/v1/channels', {
            callback_url: `${options.callbackBase}/a${a}/c${c}`,
          });
          if (res.status !== 200) throw new Error(`channel not made: ${res.status}`);
        }),
      );
    }
    return cluster;
  }

  /** A request to a node's Cronofy face as the account. */
  api(
    node: ChildServer,
    account: ClusterAccount,
    method: string,
    path: string,
    body?: unknown,
    signal?: AbortSignal,
  ): Promise<Response> {
    return fetch(`${node.url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${account.accessToken}`,
        'content-type': 'application/json',
      },
      body: body === undefined ? null : JSON.stringify(body),
      signal: signal ?? null,
    });
  }

  /** A new connection for the test's own queries, after the server was restarted. */
  async reconnect(): Promise<void> {
    await this.sql.end().catch(() => undefined);
    this.sql = await connect(this.database.url);
  }

  /** Starts a node at `index` (in place of one killed). */
  async replace(index: number): Promise<ChildServer> {
    const logs = (this.logs[index] ??= []);
    const node = await ChildServer.start(this.#dataDir, this.#env, {
      databaseUrl: this.#nodeUrl(index, this.database.url),
      onStdout: (chunk) => {
        for (const line of chunk.toString().split('\n')) {
          if (line.startsWith('{')) logs.push(line);
        }
      },
    });
    this.nodes[index] = node;
    return node;
  }

  /** Ends every session of the nodes on the database, as an operator or a failover would. */
  async terminateSessions(): Promise<number> {
    const { rows } = await this.sql.query<{ n: string }>(
      `select count(pg_terminate_backend(pid)) as n from pg_stat_activity
        where datname = current_database() and pid <> pg_backend_pid()`,
    );
    return Number(rows[0]?.n ?? 0);
  }

  /** Notifications still to be sent (queued, or on the wire). */
  async queued(): Promise<number> {
    const { rows } = await this.sql.query<{ n: string }>(
      `select count(*) as n from notifications where state in ('pending', 'sending')`,
    );
    return Number(rows[0]?.n ?? 0);
  }

  async close(): Promise<void> {
    await Promise.all(this.nodes.map((n) => n.kill('SIGKILL')));
    await this.sql.end().catch(() => undefined);
    await this.database.drop();
    rmSync(this.#dataDir, { recursive: true, force: true });
  }
}
