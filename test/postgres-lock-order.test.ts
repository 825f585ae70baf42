import { test } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { createTestAccount, startHarness } from './support/harness.ts';
import { createTestDatabase } from './support/postgres.ts';
import { touchEvent } from './support/events.ts';
import { createCalendar, deleteCalendar } from '../src/core/calendars.ts';
import { createCronofyChannel } from '../src/faces/cronofy/channels.ts';
import { createGoogleChannel } from '../src/faces/google/watch.ts';

/**
 * Resolves once `count` sessions of this database wait for a lock. `client` must not be in
 * a transaction: the activity view would stay as the transaction first read it.
 */
async function waitForLockWaiters(client: pg.Client, count: number): Promise<void> {
  for (let i = 0; i < 2_000; i++) {
    const { rows } = await client.query<{ n: number }>(
      `select count(*)::int as n from pg_stat_activity
        where datname = current_database() and wait_event_type = 'Lock'`,
    );
    if (rows[0]!.n >= count) return;
    await new Promise((resolve) => setImmediate(resolve));
  }
  throw new Error(`never saw ${count} sessions waiting for a lock`);
}

test('deleting a calendar and a change to its account, both waiting on a channel lock, do not deadlock', async () => {
  const database = await createTestDatabase();
  const h = await startHarness({ config: { databaseUrl: database.url } });
  const other = new pg.Client({ connectionString: database.url });
  const watcher = new pg.Client({ connectionString: database.url });
  try {
    const core = h.service.core;
    const account = await createTestAccount(h.service);
    const second = await createCalendar(core, account.accountId, { name: 'second' });
    for (const i of [1, 2]) {
      await createCronofyChannel(core, {
        accountId: account.accountId,
        clientId: account.clientId,
        callbackUrl: `http://127.0.0.1:9/hook${i}`,
        calendarIds: null,
        onlyManaged: false,
      });
    }
    // Another writer (a claim's completion, say) holds one of the account's channel rows.
    await other.connect();
    await watcher.connect();
    await other.query('begin');
    await other.query(
      'select id from channels where account_id = $1 order by id desc limit 1 for update',
      [account.accountId],
    );
    const outcome = (p: Promise<unknown>) =>
      p.then(
        () => 'ok',
        (err: unknown) => (err instanceof Error ? err.message : String(err)),
      );
    const deleting = outcome(deleteCalendar(core, account.accountId, second.id));
    await waitForLockWaiters(watcher, 1);
    const writing = outcome(touchEvent(h.service, account, 'e1'));
    await waitForLockWaiters(watcher, 2);
    await other.query('commit');
    assert.deepEqual([await deleting, await writing], ['ok', 'ok']);
  } finally {
    await other.end().catch(() => undefined);
    await watcher.end().catch(() => undefined);
    await h.close();
    await database.drop();
  }
});

test('a change heard by channels of two dialects locks them in id order, so it cannot deadlock', async () => {
  const database = await createTestDatabase();
  const h = await startHarness({ config: { databaseUrl: database.url } });
  const other = new pg.Client({ connectionString: database.url });
  const watcher = new pg.Client({ connectionString: database.url });
  try {
    const core = h.service.core;
    const account = await createTestAccount(h.service);
    const cronofy = await createCronofyChannel(core, {
      accountId: account.accountId,
      clientId: account.clientId,
      callbackUrl: 'http://127.0.0.1:9/cronofy',
      calendarIds: null,
      onlyManaged: false,
    });
    // A client-chosen id that sorts before the Cronofy channel's: read by public id, the
    // Google channel comes first, while its row id (gch_…) sorts after chn_….
    const google = await createGoogleChannel(core, {
      accountId: account.accountId,
      clientId: account.clientId,
      publicId: '0f3a9c2e',
      address: 'http://127.0.0.1:9/google',
      token: null,
      requestedExpiry: null,
      resource: { kind: 'events', calendarId: account.calendarId },
      resourceId: 'res',
      resourceUri: 'http://127.0.0.1/calendar/v3/calendars/x/events?alt=json',
    });
    await other.connect();
    await watcher.connect();
    await other.query('begin');
    await other.query('select id from channels where id = $1 for update', [cronofy.id]);
    const writing = touchEvent(h.service, account, 'e1').then(
      () => 'ok',
      (err: unknown) => (err instanceof Error ? err.message : String(err)),
    );
    await waitForLockWaiters(watcher, 1);
    // Another writer that locks in id order takes the next row; the change must not hold it.
    await other.query('select id from channels where id = $1 for update', [google.id]);
    await other.query('commit');
    assert.equal(await writing, 'ok');
  } finally {
    await other.end().catch(() => undefined);
    await watcher.end().catch(() => undefined);
    await h.close();
    await database.drop();
  }
});

test('concurrent upserts of one new event_id all succeed, as one event', async () => {
  const h = await startHarness({ engine: 'postgres' });
  try {
    const account = await createTestAccount(h.service);
    // Each in a transaction of its own, at once: with the existence check made before the
    // account's lock, every one found no event and all but one failed to insert theirs.
    const results = await Promise.allSettled(
      Array.from({ length: 8 }, () => touchEvent(h.service, account, 'same')),
    );
    assert.deepEqual(
      results.filter((r) => r.status === 'rejected').map((r) => String(r.reason)),
      [],
    );
    const rows = await h.service.store.db
      .selectFrom('events')
      .select('uid')
      .where('calendar_id', '=', account.calendarId)
      .execute();
    assert.equal(rows.length, 1);
  } finally {
    await h.close();
  }
});
