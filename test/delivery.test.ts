import { after, afterEach, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import type { Harness, TestAccount } from './support/harness.ts';
import { createTestAccount, startHarness, watchAccount } from './support/harness.ts';
import { Receiver } from './support/receiver.ts';
import { engines } from './support/postgres.ts';
import { ManualClock } from '../src/domain/clock.ts';
import { closeChannel } from '../src/core/channels.ts';
import { createCronofyChannel } from '../src/faces/cronofy/channels.ts';
import { touchEvent } from './support/events.ts';
import { revokeClientSecret, rotateClientSecret } from '../src/core/clients.ts';

const HOUR = 60 * 60 * 1000;
/** After a delivery, a channel's next notification waits this long (CALPUSH_MIN_INTERVAL_MS). */
const QUIET = 250;

for (const engine of engines) {
  describe(`delivery engine on ${engine} (injected clock, real receiver)`, () => {
    let receiver: Receiver;
    let clock: ManualClock;
    let h: Harness;
    let account: TestAccount;

    before(async () => {
      receiver = await Receiver.start();
    });
    after(() => receiver.close());
    beforeEach(async () => {
      receiver.requests.length = 0;
      receiver.reply = { status: 200 };
      clock = new ManualClock(Date.UTC(2026, 10, 24, 9, 0, 0));
      h = await startHarness({
        clock,
        random: () => 0.5,
        engine,
        env: { CALPUSH_MIN_INTERVAL_MS: String(QUIET) },
      });
      account = await createTestAccount(h.service);
    });
    afterEach(() => h.close());

    const channel = (path = '/hook') => watchAccount(h.service, account, `${receiver.url}${path}`);

    const change = (eventId: string) => touchEvent(h.service, account, eventId);
    /** What the receiver got, in order: each notification's type and changes_since. */
    const notifications = () =>
      (receiver.bodies() as { notification: { type: string; changes_since?: string } }[]).map(
        (b) => b.notification,
      );
    /** An instant as Cronofy prints it: UTC, whole seconds. */
    const cronofyTime = (ms: number) => new Date(ms).toISOString().replace('.000Z', 'Z');
    /** Lets a delivered channel's quiet interval pass, then delivers what is due. */
    const afterQuiet = async () => {
      clock.advance(QUIET);
      await h.service.dispatcher.runUntilIdle();
    };

    const channelRow = (id: string) =>
      h.service.store.db
        .selectFrom('channels')
        .selectAll()
        .where('id', '=', id)
        .executeTakeFirstOrThrow();

    const attempts = (id: string) =>
      h.service.store.db
        .selectFrom('attempts')
        .selectAll()
        .where('channel_id', '=', id)
        .orderBy('id')
        .execute();

    test('retries with growing backoff, then closes the channel after 24 h of failure', async () => {
      receiver.reply = { status: 500 };
      const ch = await channel();
      await h.service.dispatcher.runUntilIdle();
      assert.equal(receiver.requests.length, 1);

      // Nothing is due before the first backoff has passed.
      clock.advance(4_000);
      await h.service.dispatcher.runUntilIdle();
      assert.equal(receiver.requests.length, 1);

      const start = clock.now();
      const sent: number[] = [start];
      while (clock.now() - start < 25 * HOUR) {
        clock.advance(60_000);
        const before = receiver.requests.length;
        await h.service.dispatcher.runUntilIdle();
        if (receiver.requests.length > before) sent.push(clock.now());
      }
      const gaps = sent.slice(1).map((t, i) => t - sent[i]!);
      assert.ok(gaps.length >= 8, `expected many retries, got ${gaps.length}`);
      const beforeLast = gaps.slice(0, -1);
      assert.ok(
        beforeLast.every((g, i) => i === 0 || g >= beforeLast[i - 1]!),
        `backoff never shrinks: ${gaps.join(',')}`,
      );
      assert.ok(Math.max(...gaps) >= 30 * 60_000, 'backoff grows to tens of minutes');
      assert.ok(
        gaps.every((g) => g <= HOUR + 60_000),
        'backoff is capped at an hour',
      );

      const row = await channelRow(ch.id);
      assert.equal(row.state, 'closed');
      assert.match(row.closed_reason ?? '', /24 hours/);
      const log = await attempts(ch.id);
      assert.equal(log.length, receiver.requests.length);
      assert.ok(log.every((a) => a.status === 500));
      assert.equal(log.at(-1)!.decision, 'close');
      assert.ok(Number(log.at(-1)!.at) - start >= 24 * HOUR - 60_000);

      // A closed channel hears nothing more.
      await change('after-close');
      clock.advance(HOUR);
      await h.service.dispatcher.runUntilIdle();
      assert.equal(receiver.requests.length, log.length);
    });

    test('one success ends a failure streak', async () => {
      let fail = true;
      receiver.reply = () => (fail ? { status: 503 } : { status: 204 });
      const ch = await channel();
      await h.service.dispatcher.runUntilIdle();
      assert.ok((await channelRow(ch.id)).failing_since !== null);
      fail = false;
      clock.advance(HOUR);
      await h.service.dispatcher.runUntilIdle();
      const row = await channelRow(ch.id);
      assert.equal(row.failing_since, null);
      assert.equal(row.queue_due_at, null);
      assert.deepEqual(
        (await attempts(ch.id)).map((a) => a.decision),
        ['retry', 'delivered'],
      );
    });

    test('Retry-After is honoured', async () => {
      receiver.reply = { status: 429, headers: { 'retry-after': '600' } };
      const ch = await channel();
      await h.service.dispatcher.runUntilIdle();
      const row = await channelRow(ch.id);
      assert.equal(Number(row.queue_due_at), clock.now() + 600_000);
      clock.advance(590_000);
      await h.service.dispatcher.runUntilIdle();
      assert.equal(receiver.requests.length, 1);
      clock.advance(10_000);
      await h.service.dispatcher.runUntilIdle();
      assert.equal(receiver.requests.length, 2);
    });

    test('changes coalesce while queued; changes_since is the earliest and order is kept', async () => {
      await channel();
      const first = clock.now();
      await change('a');
      clock.advance(7_000);
      await change('b');
      clock.advance(7_000);
      await change('c');
      await h.service.dispatcher.runUntilIdle();
      await afterQuiet();
      const sent = notifications();
      assert.deepEqual(
        sent.map((n) => n.type),
        ['verification', 'change'],
      );
      assert.equal(sent[1]!.changes_since, cronofyTime(first));
    });

    test('a change that arrives while a retry is pending merges into it', async () => {
      await channel();
      await h.service.dispatcher.runUntilIdle(); // verification delivered
      receiver.reply = { status: 500 };
      const first = clock.now();
      await change('a');
      await afterQuiet(); // fails, retry scheduled
      clock.advance(1_000);
      await change('b');
      receiver.reply = { status: 200 };
      clock.advance(HOUR);
      await h.service.dispatcher.runUntilIdle();
      const sent = notifications();
      assert.deepEqual(
        sent.map((n) => n.type),
        ['verification', 'change', 'change'],
      );
      assert.equal(sent[2]!.changes_since, cronofyTime(first));
      // Both tries carry the same notification id, so a receiver can drop duplicates.
      assert.equal(
        receiver.requests[1]!.headers['calpush-notification-id'],
        receiver.requests[2]!.headers['calpush-notification-id'],
      );
    });

    test('after a delivery the channel stays quiet for the minimum interval; a burst goes out as one', async () => {
      const ch = await channel();
      await h.service.dispatcher.runUntilIdle(); // verification
      const burstStart = clock.now();
      await change('a');
      await h.service.dispatcher.runUntilIdle();
      assert.equal(receiver.requests.length, 1, 'nothing goes out inside the quiet interval');
      assert.equal(Number((await channelRow(ch.id)).queue_due_at), burstStart + QUIET);
      clock.advance(100);
      await change('b');
      clock.advance(QUIET - 100 - 1);
      await h.service.dispatcher.runUntilIdle();
      assert.equal(receiver.requests.length, 1);
      clock.advance(1);
      await h.service.dispatcher.runUntilIdle();
      const sent = notifications();
      assert.deepEqual(
        sent.map((n) => n.type),
        ['verification', 'change'],
      );
      assert.equal(sent[1]!.changes_since, cronofyTime(burstStart));

      // A change right after a delivery goes out one interval after that delivery.
      const delivered = clock.now();
      await change('c');
      await h.service.dispatcher.runUntilIdle();
      assert.equal(receiver.requests.length, 2);
      assert.equal(Number((await channelRow(ch.id)).queue_due_at), delivered + QUIET);

      // A channel that has been quiet long enough hears of a change at once.
      clock.advance(10_000);
      await h.service.dispatcher.runUntilIdle();
      assert.equal(receiver.requests.length, 3);
      clock.advance(10_000);
      await change('d');
      await h.service.dispatcher.runUntilIdle();
      assert.equal(receiver.requests.length, 4);
    });

    test('closing a channel drops what was queued for it', async () => {
      const ch = await channel();
      await h.service.dispatcher.runUntilIdle();
      await change('queued');
      await closeChannel(h.service.core, ch.id, 'closed by client');
      await h.service.dispatcher.runUntilIdle();
      assert.equal(receiver.requests.length, 1);
      const states = await h.service.store.db
        .selectFrom('notifications')
        .select('state')
        .where('channel_id', '=', ch.id)
        .orderBy('id')
        .execute();
      assert.deepEqual(
        states.map((s) => s.state),
        ['delivered', 'cancelled'],
      );
    });

    test('every active secret signs during a rotation, and only the new one after revoking', async () => {
      const rotated = await rotateClientSecret(h.service.core, account.clientId);
      await channel();
      await h.service.dispatcher.runUntilIdle();
      const sign = (secret: string, body: string) =>
        createHmac('sha256', secret).update(body).digest('base64');
      const v = receiver.requests[0]!;
      assert.equal(
        v.headers['cronofy-hmac-sha256'],
        `${sign(account.clientSecret, v.body)},${sign(rotated.clientSecret, v.body)}`,
      );
      await revokeClientSecret(h.service.core, account.clientId);
      await change('x');
      await afterQuiet();
      const c = receiver.requests[1]!;
      assert.equal(c.headers['cronofy-hmac-sha256'], sign(rotated.clientSecret, c.body));
    });

    test('channel filters: calendar_ids and only_managed', async () => {
      const other = await h.service.core.db
        .selectFrom('calendars')
        .select('id')
        .where('account_id', '=', account.accountId)
        .executeTakeFirstOrThrow();
      const filtered = await createCronofyChannel(h.service.core, {
        accountId: account.accountId,
        clientId: account.clientId,
        callbackUrl: `${receiver.url}/filtered`,
        calendarIds: [other.id],
        onlyManaged: true,
      });
      assert.ok(filtered.id);
      await h.service.dispatcher.runUntilIdle();
      await change('managed');
      await afterQuiet();
      assert.deepEqual(
        receiver.requests.map((r) => r.path),
        ['/filtered', '/filtered'],
      );
    });
  });
}
