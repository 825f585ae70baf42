/**
 * The PostgreSQL side of `npm run bench -- --database-url URL`: a fresh database per
 * configuration on the server the URL names (dropped after, so each starts empty), and what
 * the bench reads of the server while a scenario runs.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';

async function withClient<T>(url: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

export class BenchDatabase {
  readonly name: string;
  /** The URL of the fresh database, as the nodes are given it. */
  readonly url: string;
  readonly #adminUrl: string;

  private constructor(adminUrl: string, name: string) {
    this.#adminUrl = adminUrl;
    this.name = name;
    const url = new URL(adminUrl);
    url.pathname = `/${name}`;
    this.url = url.toString();
  }

  /** Creates `calpush_bench_<random>` on the server of `adminUrl` (any database on it). */
  static async create(adminUrl: string): Promise<BenchDatabase> {
    const db = new BenchDatabase(adminUrl, `calpush_bench_${randomBytes(6).toString('hex')}`);
    await withClient(adminUrl, (c) => c.query(`create database ${db.name}`));
    return db;
  }

  async drop(): Promise<void> {
    await withClient(this.#adminUrl, (c) =>
      c.query(`drop database if exists ${this.name} with (force)`),
    );
  }

  /**
   * Vacuums and analyzes the database after a set-up, as autovacuum would within a minute of
   * it: without statistics the planner takes a fresh table's predicates as selective and
   * picks other plans than a running installation's (the claim then reads every channel).
   * Returns whether the server runs autovacuum at all.
   */
  async settle(): Promise<boolean> {
    return withClient(this.url, async (c) => {
      await c.query('vacuum analyze');
      const { rows } = await c.query<{ autovacuum: string }>('show autovacuum');
      return rows[0]?.autovacuum === 'on';
    });
  }

  /** Transactions ended in this database so far (committed or rolled back). */
  async transactions(): Promise<number> {
    return withClient(this.#adminUrl, async (c) => {
      const { rows } = await c.query<{ n: string }>(
        'select xact_commit + xact_rollback as n from pg_stat_database where datname = $1',
        [this.name],
      );
      return Number(rows[0]?.n ?? 0);
    });
  }

  /** Process ids of the server's backends serving this database (they are on this machine). */
  async backendPids(): Promise<number[]> {
    return withClient(this.#adminUrl, async (c) => {
      const { rows } = await c.query<{ pid: number }>(
        'select pid from pg_stat_activity where datname = $1',
        [this.name],
      );
      return rows.map((r) => r.pid);
    });
  }

  /**
   * Samples what this database's backends are doing every `everyMs` until `stop`: the
   * average number of backends in each state (`active`: running on CPU; `active Lock/…`:
   * waiting for that event; `idle in transaction`), over the samples taken.
   */
  async sampleActivity(everyMs = 100): Promise<{ stop(): Promise<ActivitySamples> }> {
    const client = new pg.Client({ connectionString: this.#adminUrl });
    await client.connect();
    const counts = new Map<string, number>();
    let samples = 0;
    let stopped = false;
    const loop = (async () => {
      while (!stopped) {
        const { rows } = await client.query<{ state: string | null; wait: string | null }>(
          `select state, wait_event_type || '/' || wait_event as wait from pg_stat_activity
            where datname = $1 and backend_type = 'client backend' and pid <> pg_backend_pid()`,
          [this.name],
        );
        samples++;
        for (const r of rows) {
          // A listening connection idles in ClientRead like any idle one.
          if (r.state === 'idle') continue;
          const key = r.state === 'active' && r.wait ? `waiting ${r.wait}` : (r.state ?? '?');
          counts.set(key, (counts.get(key) ?? 0) + 1);
        }
        await new Promise((resolve) => setTimeout(resolve, everyMs));
      }
    })();
    return {
      async stop() {
        stopped = true;
        await loop;
        await client.end();
        const average = [...counts]
          .map(([state, n]) => ({ state, backends: n / Math.max(1, samples) }))
          .sort((a, b) => b.backends - a.backends);
        return { samples, average };
      },
    };
  }
}

export interface ActivitySamples {
  readonly samples: number;
  /** Average backends per sample in each non-idle state, most first. */
  readonly average: readonly { readonly state: string; readonly backends: number }[];
}
