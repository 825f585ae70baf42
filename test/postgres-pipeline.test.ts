import { test } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { sql } from 'kysely';
import type { Harness, HarnessOptions } from './support/harness.ts';
import { createTestAccount, startHarness, watchAccount } from './support/harness.ts';
import { holdChannels } from '../src/store/channel-locks.ts';
import { touchEvent } from './support/events.ts';
import { isStoreUnavailable } from '../src/store/unavailable.ts';
import { prepared } from '../src/store/prepared.ts';
import { inTransaction } from '../src/store/transaction.ts';
import { Receiver } from './support/receiver.ts';

const metaValue = prepared((db, key: string) =>
  db.selectFrom('meta').select('value').where('key', '=', key),
);
const metaInsert = prepared((db, key: string, value: string) =>
  db.insertInto('meta').values({ key, value }),
);

/**
 * A node on a fresh PostgreSQL database of its own (dropped with the harness), and a client
 * of that database, connected, for the test to hold locks and read with; both closed after.
 */
async function onPostgres(
  options: Pick<HarnessOptions, 'env' | 'tune'>,
  run: (h: Harness, client: pg.Client) => Promise<void>,
): Promise<void> {
  const h = await startHarness({ engine: 'postgres', ...options });
  const client = new pg.Client({ connectionString: h.databaseUrl });
  try {
    await client.connect();
    await run(h, client);
  } finally {
    await client.end().catch(() => undefined);
    await h.close();
  }
}

/** Lock waits that end after 200 ms. */
const shortLockBound: Pick<HarnessOptions, 'tune'> = {
  tune: (config) => ({ ...config, postgres: { ...config.postgres, lockTimeoutMs: 200 } }),
};

/**
 * `begin` and the account's lock go out without the node waiting for their answers (the
 * pool pipelines). What must still hold: the statements behind them run after them, and a
 * failure of theirs fails the write, with nothing of it kept.
 */
test('a write whose account lock times out fails as unavailable and leaves nothing behind', () =>
  onPostgres(shortLockBound, async (h, holder) => {
    const account = await createTestAccount(h.service);
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
  }));

test('writes of one account made at once all land, each after the lock it was sent behind', () =>
  onPostgres({}, async (h, reader) => {
    const account = await createTestAccount(h.service);
    // Every write upserts the same event: without the lock before its read, two would find
    // none and one would fail on the unique key.
    await Promise.all(Array.from({ length: 24 }, () => touchEvent(h.service, account, 'same')));
    const { rows } = await reader.query<{ sequence: number; n: number }>(
      `select max(sequence)::int as sequence, count(*)::int as n from events where external_id = 'same'`,
    );
    assert.deepEqual(rows[0], { sequence: 23, n: 1 });
    const seqs = await reader.query<{ seq: number }>(
      'select seq from changes where account_id = $1 order by seq',
      [account.accountId],
    );
    assert.equal(seqs.rows.length >= 24, true);
  }));

test('outside a transaction a lock is waited for: its failure is its own, never the next query’s', () =>
  onPostgres(shortLockBound, async (h, holder) => {
    const account = await createTestAccount(h.service);
    const channel = await watchAccount(h.service, account, 'http://127.0.0.1:9/hook');
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
  }));

test('a read sent ahead is answered with the statement behind it; one left unawaited fails the commit', () =>
  onPostgres({}, async (h) => {
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
  }));

/** The node's connections to the test's database, by the name each gives itself. */
async function connectionsByName(reader: pg.Client): Promise<Record<string, number>> {
  const { rows } = await reader.query<{ name: string; n: number }>(
    `select application_name as name, count(*)::int as n from pg_stat_activity
      where datname = current_database() and pid <> pg_backend_pid()
        and backend_type = 'client backend'
      group by application_name`,
  );
  return Object.fromEntries(rows.map((r) => [r.name, r.n]));
}

test('a node opens no more connections than its two pools allow, however many writes wait', () =>
  onPostgres(
    { env: { CALPUSH_PG_POOL_SIZE: '3', CALPUSH_PG_DELIVERY_POOL_SIZE: '2' } },
    async (h, reader) => {
      const receiver = await Receiver.start();
      try {
        const accounts = await Promise.all(
          Array.from({ length: 6 }, () => createTestAccount(h.service)),
        );
        for (const a of accounts) await watchAccount(h.service, a, `${receiver.url}/hook`);
        await Promise.all(
          Array.from({ length: 30 }, (_, i) =>
            touchEvent(h.service, accounts[i % accounts.length]!, `w${i}`),
          ),
        );
        await Promise.all([
          h.service.dispatcher.runUntilIdle(),
          h.service.dispatcher.runUntilIdle(),
          h.service.dispatcher.runUntilIdle(),
        ]);
        assert.equal(receiver.requests.length, accounts.length);
        // Pools keep their connections a while after use: what they opened is still there.
        const open = await connectionsByName(reader);
        assert.ok(open.calpush! >= 1 && open.calpush! <= 3, JSON.stringify(open));
        assert.ok(open['calpush delivery']! >= 1, JSON.stringify(open));
        assert.ok(open['calpush delivery']! <= 2, JSON.stringify(open));
      } finally {
        await receiver.close();
      }
    },
  ));

test('deliveries go on while every API connection waits on a lock', () =>
  onPostgres({ env: { CALPUSH_PG_POOL_SIZE: '1' } }, async (h, holder) => {
    const receiver = await Receiver.start();
    try {
      const watched = await createTestAccount(h.service);
      const blocked = await createTestAccount(h.service);
      await watchAccount(h.service, watched, `${receiver.url}/hook`);
      await touchEvent(h.service, watched, 'queued');

      // The node's only API connection goes to a write that waits for this account's lock.
      await holder.query('begin');
      await holder.query('select pg_advisory_xact_lock(hashtext($1))', [blocked.accountId]);
      let settled = false;
      const write = touchEvent(h.service, blocked, 'waits').finally(() => (settled = true));
      for (let tries = 0; ; tries++) {
        const { rows } = await holder.query<{ n: number }>(
          `select count(*)::int as n from pg_stat_activity
            where application_name = 'calpush' and wait_event_type = 'Lock'`,
        );
        if (rows[0]!.n === 1) break;
        assert.ok(tries < 500, 'the write never came to wait for the lock');
        await new Promise((resolve) => setImmediate(resolve));
      }

      await h.service.dispatcher.runUntilIdle();
      assert.equal(receiver.requests.length, 1);
      assert.equal(settled, false, 'the delivery waited for the write');

      await holder.query('commit');
      await write;
    } finally {
      await holder.query('rollback').catch(() => undefined);
      await receiver.close();
    }
  }));
