import { test } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import type { Harness, TestAccount } from './support/harness.ts';
import { createTestAccount, startHarness, watchAccount } from './support/harness.ts';
import { Receiver } from './support/receiver.ts';
import { touchEvent } from './support/events.ts';

/** Ends every other session on the node's database, as a failover or an operator would. */
async function terminateSessions(databaseUrl: string): Promise<number> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{ n: string }>(
      `select count(pg_terminate_backend(pid)) as n from pg_stat_activity
        where datname = current_database() and pid <> pg_backend_pid()`,
    );
    return Number(rows[0]?.n ?? 0);
  } finally {
    await client.end();
  }
}

/** A write retried until the store answers again: what a client does on a 5xx. */
async function persist<T>(write: () => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await write();
    } catch (err) {
      if (attempt >= 50) throw err;
      await new Promise((resolve) => setImmediate(resolve));
    }
  }
}

test('every connection terminated mid-delivery: the node carries on and nothing is lost', async () => {
  const receiver = await Receiver.start();
  receiver.reply = { status: 200, delayMs: 5 };
  let h: Harness | undefined;
  try {
    h = await startHarness({
      engine: 'postgres',
      start: true,
      tune: (c) => ({ ...c, delivery: { ...c.delivery, minIntervalMs: 0 } }),
    });
    const service = h.service;
    const databaseUrl = h.databaseUrl ?? '';
    const account: TestAccount = await createTestAccount(service);
    const paths = Array.from({ length: 20 }, (_, i) => `/c${i}`);
    for (const path of paths) await watchAccount(service, account, `${receiver.url}${path}`);

    let terminated = 0;
    for (let k = 0; k < 40; k++) {
      if (k === 10 || k === 25) terminated += await terminateSessions(databaseUrl);
      await persist(() => touchEvent(service, account, `e${k % 7}`));
    }
    assert.ok(terminated > 0, 'the node had sessions to lose');
    // Every channel hears of the last change: a notification sent after it was committed.
    const lastWrite = Date.now();
    const since = receiver.requests.length;
    await receiver.waitFor((requests) => {
      const late = new Set(
        requests
          .slice(since)
          .filter((r) => r.at >= lastWrite)
          .map((r) => r.path),
      );
      return paths.every((p) => late.has(p));
    }, 20_000);
    // And the outbox drains: everything committed was delivered.
    for (let i = 0; ; i++) {
      const { live } = await service.store.db
        .selectFrom('notifications')
        .select((eb) => eb.fn.countAll<number>().as('live'))
        .where('state', 'in', ['pending', 'sending'])
        .executeTakeFirstOrThrow();
      if (Number(live) === 0) break;
      assert.ok(i < 200, `${live} notifications still queued`);
      await receiver.waitFor((r) => r.length > since, 100).catch(() => undefined);
    }
    // Ready again: the pool made new connections by itself.
    const ready = await service.app.request('/readyz');
    assert.equal(ready.status, 200);
  } finally {
    await h?.close();
    await receiver.close();
  }
});
