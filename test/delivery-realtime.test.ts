import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import type { Completion } from '../src/domain/delivery.ts';
import type { Harness, TestAccount } from './support/harness.ts';
import { createTestAccount, startHarness, watchAccount } from './support/harness.ts';
import { Receiver, notificationType } from './support/receiver.ts';
import { touchEvent } from './support/events.ts';

// These run the dispatcher in the background on the real clock, as `calpush serve` does, with
// the HTTP client in its worker thread (CALPUSH_SENDER_THREAD=1): timeouts and order must hold
// across the thread boundary too. The other suites use the default in-process client.
let h: Harness;
/** The quiet interval after each delivery (CALPUSH_MIN_INTERVAL_MS). */
const interval = 250;
let account: TestAccount;
let receiver: Receiver;

before(async () => {
  receiver = await Receiver.start();
  h = await startHarness({
    start: true,
    tune: (c) => ({
      ...c,
      delivery: { ...c.delivery, timeoutMs: 300, senderThread: true, minIntervalMs: interval },
    }),
  });
  account = await createTestAccount(h.service);
});
after(async () => {
  await receiver.close();
  await h.close();
});

const change = (eventId: string) => touchEvent(h.service, account, eventId);

/** A Cronofy channel of the test account on the receiver, hearing every change. */
const channelAt = (path: string) => watchAccount(h.service, account, `${receiver.url}${path}`);

test('a receiver that does not answer in time counts as a failure and is retried', async () => {
  receiver.requests.length = 0;
  receiver.reply = 'hang';
  const ch = await channelAt('/slow');
  const attempt = await waitForAttempt(ch.id);
  assert.equal(attempt.status, null);
  assert.match(attempt.error ?? '', /timed out after 300 ms/);
  assert.equal(attempt.decision, 'retry');
});

test('one request at a time per channel, in order, with changes coalesced behind it', async () => {
  receiver.requests.length = 0;
  let open = 0;
  let maxOpen = 0;
  receiver.reply = () => {
    open++;
    maxOpen = Math.max(maxOpen, open);
    setTimeout(() => open--, 50);
    return { status: 200, delayMs: 50 };
  };
  await channelAt('/ordered');
  await receiver.waitFor((r) => r.some((x) => x.path === '/ordered'));
  for (let i = 0; i < 10; i++) await change(`o${i}`);
  const lastWrite = Date.now();
  await receiver.waitFor((r) =>
    r.some((x) => x.path === '/ordered' && x.at >= lastWrite && x.body.includes('"change"')),
  );
  const mine = receiver.requests.filter((r) => r.path === '/ordered');
  const types = mine.map(notificationType);
  assert.equal(types[0], 'verification');
  assert.ok(types.slice(1).every((t) => t === 'change'));
  assert.ok(
    mine.length <= 4,
    `10 quick changes coalesce into a few notifications, got ${mine.length}`,
  );
  assert.equal(maxOpen, 1);
  const since = mine
    .slice(1)
    .map(
      (r) =>
        (JSON.parse(r.body) as { notification: { changes_since: string } }).notification
          .changes_since,
    );
  assert.deepEqual(since, [...since].sort());
});

test('after a delivery the next notification waits for the quiet interval, then goes out on its own', async () => {
  receiver.requests.length = 0;
  receiver.reply = { status: 200 };
  await channelAt('/quiet');
  await receiver.waitFor((r) => r.some((x) => x.path === '/quiet'));
  await change('q1');
  await receiver.waitFor((r) => r.filter((x) => x.path === '/quiet').length >= 2);
  await change('q2');
  await change('q3');
  // Nothing else is written meanwhile: only the dispatcher's own timer (or its regular look)
  // can send this one.
  await receiver.waitFor((r) => r.filter((x) => x.path === '/quiet').length >= 3);
  const mine = receiver.requests.filter((r) => r.path === '/quiet');
  assert.equal(mine.length, 3, 'q2 and q3 went out as one notification');
  // The interval runs from when the previous outcome was written, after it arrived.
  assert.ok(mine[1]!.at - mine[0]!.at >= interval, `${mine[1]!.at - mine[0]!.at} ms apart`);
  assert.ok(mine[2]!.at - mine[1]!.at >= interval, `${mine[2]!.at - mine[1]!.at} ms apart`);
});

/** Waits for the dispatcher to record an outcome for the channel (a spy, not a poll). */
async function waitForAttempt(channelId: string) {
  for (;;) {
    const [batch] = (await once(h.service.dispatcher.events, 'recorded')) as [Completion[]];
    const mine = batch.find((c) => c.delivery.channel.id === channelId);
    if (mine) {
      return h.service.store.db
        .selectFrom('attempts')
        .selectAll()
        .where('channel_id', '=', channelId)
        .executeTakeFirstOrThrow();
    }
  }
}
