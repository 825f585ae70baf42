import { afterEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import pg from 'pg';
import type { Harness } from './support/harness.ts';
import { addAccount, createTestAccount, startHarness, watchAccount } from './support/harness.ts';
import { touchEvent } from './support/events.ts';
import { Receiver } from './support/receiver.ts';
import { engines } from './support/postgres.ts';
import { ManualClock } from '../src/domain/clock.ts';
import { closeChannel } from '../src/core/channels.ts';
import { claimDue, nextDueAt } from '../src/store/queue/claim.ts';
import { recordCompletions } from '../src/store/queue/complete.ts';

for (const engine of engines) {
  describe(`claims on ${engine}`, () => {
    let h: Harness | undefined;
    let receiver: Receiver | undefined;
    afterEach(async () => {
      await h?.close();
      await receiver?.close();
    });

    test('closing a channel whose claim waits for a slot of its origin stops it', async () => {
      receiver = await Receiver.start();
      receiver.reply = (r) => (r.path === '/a' ? { status: 200, delayMs: 300 } : { status: 200 });
      h = await startHarness({ engine, env: { CALPUSH_MAX_IN_FLIGHT_PER_ORIGIN: '1' } });
      const account = await createTestAccount(h.service);
      const make = (path: string) => watchAccount(h!.service, account, `${receiver!.url}${path}`);
      await make('/a');
      const b = await make('/b');
      // One claim takes both channels; only /a fits the origin's single slot.
      const run = h.service.dispatcher.runUntilIdle();
      await receiver.waitFor((r) => r.some((x) => x.path === '/a'));
      await closeChannel(h.service.core, b.id, 'closed by client');
      await run;
      assert.deepEqual(
        receiver.requests.map((r) => r.path),
        ['/a'],
      );
    });

    test('an outcome releases a channel only under the lease its claim took', async () => {
      const clock = new ManualClock();
      h = await startHarness({ clock, engine });
      const account = await createTestAccount(h.service);
      const channel = await watchAccount(h.service, account, 'http://127.0.0.1:9/x');
      const db = h.service.store.db;
      const lockRows = h.service.store.traits.concurrentWriters;
      // Leases on the test's clock, which moves past the first (the database's would not).
      const opts = {
        limit: 10,
        leaseMs: 60_000,
        excludeOrigins: [],
        lockRows,
        leaseClock: 'node' as const,
      };
      const [first] = await claimDue(db, { ...opts, now: clock.now() });
      assert.ok(first);
      // The first send outlives its lease; a second claim takes the channel over.
      clock.advance(61_000);
      const [second] = await claimDue(db, { ...opts, now: clock.now() });
      assert.equal(second?.notificationId, first.notificationId);
      const attempt = { at: clock.now(), status: 200, error: null, latencyMs: 1 };
      await recordCompletions(db, [{ kind: 'delivered', delivery: first, attempt }], clock.now());
      const row = await db
        .selectFrom('channels')
        .select('lease_until')
        .where('id', '=', channel.id)
        .executeTakeFirstOrThrow();
      assert.equal(
        Number(row.lease_until),
        second.leaseUntil,
        'the late outcome left the new lease alone',
      );
    });

    test('a claim that waits past half its lease goes back unsent: no channel is ever sent twice at once', async () => {
      receiver = await Receiver.start();
      receiver.reply = 'hang';
      h = await startHarness({
        engine,
        start: true,
        env: { CALPUSH_MAX_IN_FLIGHT_PER_ORIGIN: '2' },
        tune: (c) => ({ ...c, delivery: { ...c.delivery, timeoutMs: 800, leaseMs: 2000 } }),
      });
      const account = await createTestAccount(h.service);
      const recorded: string[] = [];
      h.service.dispatcher.events.on('recorded', (batch) => {
        for (const c of batch) recorded.push(c.delivery.channel.id);
      });
      for (let i = 0; i < 5; i++) {
        await watchAccount(h.service, account, `${receiver.url}/c${i}`);
      }
      // Every channel's first attempt times out and is recorded (the retries come seconds later).
      while (new Set(recorded).size < 5) await once(h.service.dispatcher.events, 'recorded');
      const paths = receiver.requests.map((r) => r.path).sort();
      assert.deepEqual(paths, ['/c0', '/c1', '/c2', '/c3', '/c4']);
    });

    test('changes that come just after a claim share the next one, which waits out the spacing', async () => {
      receiver = await Receiver.start();
      h = await startHarness({
        engine,
        start: true,
        tune: (c) => ({ ...c, delivery: { ...c.delivery, claimSpacingMs: 300, minIntervalMs: 0 } }),
      });
      const first = await createTestAccount(h.service);
      const accounts: Omit<typeof first, 'clientSecret'>[] = [first];
      for (let i = 1; i < 4; i++)
        accounts.push(await addAccount(h.service, first.clientId, `u${i}@example.com`));
      for (const [i, account] of accounts.entries()) {
        await watchAccount(h.service, account, `${receiver.url}/c${i}`);
      }
      // Each new channel is sent its verification first.
      await receiver.waitForCount(4);
      const claims: { at: number; count: number }[] = [];
      h.service.dispatcher.events.on('claimed', (count) => {
        if (count > 0) claims.push({ at: performance.now(), count });
      });
      await touchEvent(h.service, first, 'e0');
      while (claims.length === 0) await once(h.service.dispatcher.events, 'claimed');
      // Written well within the spacing, each in a turn of the event loop of its own (so without
      // the spacing each would be claimed alone): the claim that follows takes all three.
      for (const account of accounts.slice(1)) {
        await touchEvent(h.service, account, 'e1');
        await new Promise((resolve) => setImmediate(resolve));
      }
      await receiver.waitForCount(8);
      assert.deepEqual(
        claims.map((c) => c.count),
        [1, 3],
      );
      const gap = claims[1]!.at - claims[0]!.at;
      assert.ok(gap >= 250, `the second claim came ${gap.toFixed(0)} ms after the first`);
    });

    test('a notification that cannot be rendered is a failed attempt, and the deliveries waiting behind it go on', async () => {
      receiver = await Receiver.start();
      const clock = new ManualClock(Date.UTC(2026, 10, 24, 9, 0, 0));
      h = await startHarness({ clock, engine, env: { CALPUSH_MAX_IN_FLIGHT_PER_ORIGIN: '1' } });
      const account = await createTestAccount(h.service);
      const channels = [];
      for (let i = 0; i < 4; i++) {
        channels.push(await watchAccount(h.service, account, `${receiver.url}/c${i}`));
      }
      await h.service.dispatcher.runUntilIdle();
      const verifications = receiver.requests.length;
      clock.advance(60_000);
      await touchEvent(h.service, account, 'e1');
      // A stored instant past what a Date can hold: rendering it throws before anything is sent.
      await h.service.store.db
        .updateTable('notifications')
        .set({ changes_since: 9e15 })
        .where('state', '=', 'pending')
        .execute();
      await h.service.dispatcher.runUntilIdle();
      assert.equal(receiver.requests.length, verifications, 'nothing was sent');
      assert.equal(h.service.dispatcher.inFlight, 0);
      const failed = await h.service.store.db
        .selectFrom('attempts')
        .select(['channel_id', 'error', 'decision'])
        .where('status', 'is', null)
        .execute();
      assert.deepEqual(failed.map((a) => a.channel_id).sort(), channels.map((c) => c.id).sort());
      for (const a of failed) {
        assert.match(a.error ?? '', /Invalid time value/);
        assert.equal(a.decision, 'retry');
      }
    });
  });
}

test('wakes that come while a claim waits on the database share one claim after it', async () => {
  const h = await startHarness({ engine: 'postgres', start: true });
  const holder = new pg.Client({ connectionString: h.databaseUrl });
  try {
    await h.service.dispatcher.runUntilIdle();
    const claims: number[] = [];
    h.service.dispatcher.events.on('claimed', (n) => claims.push(n));
    await holder.connect();
    // The claim's update waits for the table, as one would on a slow or busy database.
    await holder.query('begin');
    await holder.query('lock table channels in exclusive mode');
    h.service.dispatcher.wake();
    await waitUntil(async () => (await claimsWaiting(holder)) === 1);
    // Each wake comes after the claim spacing has passed, so each would be a claim of its own.
    for (let i = 0; i < 20; i++) {
      h.service.dispatcher.wake();
      await new Promise((resolve) => setTimeout(resolve, 8));
    }
    await holder.query('commit');
    await h.service.dispatcher.runUntilIdle();
    // The one that waited, the one behind it, runUntilIdle's own, and the regular looks' (every
    // 200 ms); one claim per wake would be 21.
    assert.ok(claims.length <= 5, `${claims.length} claims`);
  } finally {
    await holder.end().catch(() => undefined);
    await h.close();
  }
});

/** Statements of other sessions waiting for a lock on `channels`. */
async function claimsWaiting(client: pg.Client): Promise<number> {
  const { rows } = await client.query<{ n: number }>(
    `select count(*)::int as n from pg_locks where not granted and relation = 'channels'::regclass`,
  );
  return rows[0]!.n;
}

async function waitUntil(check: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 200 && !(await check()); i++) {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

for (const engine of engines) {
  test(`on ${engine}, the next due time leaves out leases, and what lies past the horizon`, async () => {
    const clock = new ManualClock(Date.UTC(2026, 11, 6, 9, 0, 0));
    const h = await startHarness({ clock, engine });
    try {
      const account = await createTestAccount(h.service);
      await watchAccount(h.service, account, 'http://127.0.0.1:9/x');
      const db = h.service.store.db;
      const claimed = await claimDue(db, {
        now: clock.now(),
        leaseClock: 'node',
        limit: 10,
        leaseMs: 60_000,
        excludeOrigins: [],
        lockRows: h.service.store.traits.concurrentWriters,
      });
      assert.equal(claimed.length, 1, 'the verification');
      // Its lease's end is due in a minute: the regular look takes it over if need be.
      assert.equal(await nextDueAt(db, clock.now(), 120_000), null);
      await db.updateTable('channels').set({ lease_until: null }).execute();
      assert.equal(await nextDueAt(db, clock.now(), 120_000), clock.now() + 60_000);
      assert.equal(await nextDueAt(db, clock.now(), 10_000), null);
    } finally {
      await h.close();
    }
  });
}
