import pg from 'pg';
import { randomBytes } from 'node:crypto';

/** The server tests make throwaway databases on; CI provides one on loopback. */
export const adminUrl =
  process.env.CALPUSH_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export interface TestDatabase {
  readonly url: string;
  drop(): Promise<void>;
}

async function admin<T>(fn: (client: pg.Client) => Promise<T>, url = adminUrl): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/**
 * A fresh, empty database per test file: no state leaks between tests or runs. With
 * `asyncCommit`, commits do not wait for the disk (PostgreSQL's synchronous_commit off: a
 * crash of the database server could lose the last ones, nothing else changes), for tests
 * that make thousands of writes and test no durability.
 */
export async function createTestDatabase(
  options: {
    asyncCommit?: boolean;
    /** Another server than the machine's. */ adminUrl?: string;
  } = {},
): Promise<TestDatabase> {
  const server = options.adminUrl ?? adminUrl;
  const name = `calpush_test_${randomBytes(6).toString('hex')}`;
  await admin((c) => c.query(`create database ${name}`), server);
  if (options.asyncCommit) {
    await admin((c) => c.query(`alter database ${name} set synchronous_commit = off`), server);
  }
  const url = new URL(server);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: () =>
      admin((c) => c.query(`drop database if exists ${name} with (force)`), server).then(
        () => undefined,
      ),
  };
}

/** Store engines every contract suite runs against. */
export const engines = ['sqlite', 'postgres'] as const;
export type TestEngine = (typeof engines)[number];
