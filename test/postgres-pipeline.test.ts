import { test } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { sql } from 'kysely';
import { createTestAccount, startHarness, watchAccount } from './support/harness.ts';
import { holdChannels } from '../src/store/channel-locks.ts';
import { createTestDatabase } from './support/postgres.ts';
import { touchEvent } from './support/events.ts';
import { isStoreUnavailable } from '../src/store/unavailable.ts';
import { prepared } from '../src/store/prepared.ts';
import { inTransaction } from '../src/store/transaction.ts';

const metaValue = prepared((db, key: string) =>
  db.selectFrom('meta').select('value').where('key', '=', key),
);
const metaInsert = prepared((db, key: string, value: string) =>
  db.insertInto('meta').values({ key, value }),
);

/** A server whose lock waits end after 200 ms, and a client of its database to hold locks. */
async function withShortLockBound() {
  const database = await createTestDatabase();
  const h = await startHarness({
    config: { databaseUrl: database.url },
    tune: (config) => ({ ...config, postgres: { ...config.postgres, lockTimeoutMs: 200 } }),
  });
  const holder = new pg.Client({ connectionString: database.url });
  return { database, h, holder };
}

/**
 * `begin` and the account's lock go out without the node waiting for their answers (the
 * pool pipelines). What must still hold: the statements behind them run after them, and a
 * failure of theirs fails the write, with nothing of it kept.
 */
test('a write whose account lock times out fails as unavailable and leaves nothing behind', async () => {
  const { database, h, holder } = await withShortLockBound();
  try {
    const account = await createTestAccount(h.service);
    await holder.connect();
    await holder.query('begin');
    await holder.query('select pg_advisory_xact_lock(hashtext($1))', [account.accountId]);
    const { rows: before } = await holder.query<{ n: number }>(
      'select count(*)::int as n from changes',
    );

    await assert.rejects(touchEvent(h.service, account, 'held'), (err: unknown) => {
      assert.ok(isStoreUnavailable(err), `unavailable, not ${String(err)}`);
      assert.equal((err as { code?: string }).code, '55P03');
      return true;
    });

    await holder.query('commit');
    const counts = await holder.query<{ changes: number; events: number }>(
      `select (select count(*)::int from changes) as changes,
              (select count(*)::int from events where external_id = 'held') as events`,
    );
    assert.deepEqual(counts.rows[0], { changes: before[0]!.n, events: 0 });

    // The connection the failed write had is usable again, and so is the lock.
    for (let i = 0; i < 12; i++) await touchEvent(h.service, account, `after-${i}`);
    const after = await holder.query<{ n: number }>(
      `select count(*)::int as n from events where external_id like 'after-%'`,
    );
    assert.equal(after.rows[0]!.n, 12);
  } finally {
    await holder.end().catch(() => undefined);
    await h.close();
    await database.drop();
  }
});

test('writes of one account made at once all land, each after the lock it was sent behind', async () => {
  const database = await createTestDatabase();
  const h = await startHarness({ config: { databaseUrl: database.url } });
  const reader = new pg.Client({ connectionString: database.url });
  try {
    const account = await createTestAccount(h.service);
    // Every write upserts the same event: without the lock before its read, two would find
    // none and one would fail on the unique key.
    await Promise.all(Array.from({ length: 24 }, () => touchEvent(h.service, account, 'same')));
    await reader.connect();
    const { rows } = await reader.query<{ sequence: number; n: number }>(
      `select max(sequence)::int as sequence, count(*)::int as n from events where external_id = 'same'`,
    );
    assert.deepEqual(rows[0], { sequence: 23, n: 1 });
    const seqs = await reader.query<{ seq: number }>(
      'select seq from changes where account_id = $1 order by seq',
      [account.accountId],
    );
    assert.equal(seqs.rows.length >= 24, true);
  } finally {
    await reader.end().catch(() => undefined);
    await h.close();
    await database.drop();
  }
});

test('outside a transaction a lock is waited for: its failure is its own, never the next query’s', async () => {
  const { database, h, holder } = await withShortLockBound();
  try {
    const account = await createTestAccount(h.service);
    const channel = await watchAccount(h.service, account, 'http://127.0.0.1:9/hook');
    await holder.connect();
    await holder.query('begin');
    await holder.query('select id from channels where id = $1 for update', [channel.id]);
    const db = h.service.store.db;
    await assert.rejects(holdChannels(db, [channel.id]), (err: unknown) => {
      assert.equal((err as { code?: string }).code, '55P03');
      return true;
    });
    await holder.query('commit');
    // Every connection of the pool answers its own queries again.
    const answers = await Promise.all(
      Array.from({ length: 20 }, (_, i) => sql<{ n: number }>`select ${i}::int as n`.execute(db)),
    );
    assert.deepEqual(
      answers.map((a) => a.rows[0]!.n),
      Array.from({ length: 20 }, (_, i) => i),
    );
  } finally {
    await holder.end().catch(() => undefined);
    await h.close();
    await database.drop();
  }
});

test('a read sent ahead is answered with the statement behind it; one left unawaited fails the commit', async () => {
  const database = await createTestDatabase();
  const h = await startHarness({ config: { databaseUrl: database.url } });
  try {
    const db = h.service.store.db;
    await metaInsert(db, 'ahead-a', 'first');
    await metaInsert(db, 'ahead-b', 'second');
    const answers = await inTransaction(db, async (trx) => {
      const first = metaValue.sentAhead(trx, 'ahead-a');
      const second = await metaValue(trx, 'ahead-b');
      return [(await first).rows[0]?.value, second.rows[0]?.value];
    });
    assert.deepEqual(answers, ['first', 'second']);

    // A statement nobody waits for still fails its transaction, and nothing of it is kept.
    await assert.rejects(
      inTransaction(db, async (trx) => {
        await metaInsert(trx, 'kept-not', 'x');
        await metaInsert.unawaited(trx, 'ahead-a', 'duplicate');
      }),
      (err: unknown) => {
        assert.equal((err as { code?: string }).code, '23505');
        return true;
      },
    );
    assert.equal((await metaValue(db, 'kept-not')).rows.length, 0);
    assert.equal((await metaValue(db, 'ahead-a')).rows[0]?.value, 'first');

    // A failure sent before a read ahead is that read's answer too, not "transaction aborted".
    await assert.rejects(
      inTransaction(db, async (trx) => {
        await metaInsert.unawaited(trx, 'ahead-b', 'duplicate');
        const read = metaValue.sentAhead(trx, 'ahead-a');
        await read;
      }),
      (err: unknown) => {
        assert.equal((err as { code?: string }).code, '23505');
        return true;
      },
    );
    // Outside a transaction it is a plain call.
    assert.equal((await metaValue.sentAhead(db, 'ahead-b')).rows[0]?.value, 'second');
  } finally {
    await h.close();
    await database.drop();
  }
});

test('a node opens no more connections than CALPUSH_PG_POOL_SIZE, however many writes wait', async () => {
  const database = await createTestDatabase();
  const h = await startHarness({
    config: { databaseUrl: database.url },
    env: { CALPUSH_PG_POOL_SIZE: '3' },
  });
  const reader = new pg.Client({ connectionString: database.url });
  try {
    const account = await createTestAccount(h.service);
    await Promise.all(
      Array.from({ length: 30 }, (_, i) => touchEvent(h.service, account, `w${i}`)),
    );
    await reader.connect();
    // The pool keeps its connections a while after use: what it opened for the 30 is there.
    const { rows } = await reader.query<{ n: number }>(
      `select count(*)::int as n from pg_stat_activity
        where datname = current_database() and pid <> pg_backend_pid() and backend_type = 'client backend'`,
    );
    assert.ok(rows[0]!.n >= 1 && rows[0]!.n <= 3, `${rows[0]!.n} connections`);
  } finally {
    await reader.end().catch(() => undefined);
    await h.close();
    await database.drop();
  }
});
