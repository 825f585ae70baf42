import { afterEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import type { Kysely } from 'kysely';
import type { Harness, TestAccount } from './support/harness.ts';
import { createTestAccount, startHarness, watchAccount } from './support/harness.ts';
import { touchEvent } from './support/events.ts';
import { engines } from './support/postgres.ts';
import type { Db } from '../src/store/schema.ts';
import { ManualClock } from '../src/domain/clock.ts';
import type { Completion, Delivery } from '../src/domain/delivery.ts';
import { claimDue } from '../src/store/queue/claim.ts';
import { recordCompletions } from '../src/store/queue/complete.ts';
import { releaseAllLeases, releaseClaims } from '../src/store/queue/release.ts';
import { enqueue } from '../src/store/outbox.ts';
import { traitsOf } from '../src/store/engine-traits.ts';
import { up as upSendingOnChannel } from '../src/store/migrations/006-sending-on-channel.ts';

/**
 * A claim leaves its head `pending` and names it on the channel; these cover a change of the
 * same kind that arrives while that head is on the wire, whatever its send's outcome.
 */
/**
 * Claims what is due at the clock's time, as the dispatcher of the store's engine would, but
 * with leases on the test's clock, so moving it past a lease lets another claim take the
 * channel over (PostgreSQL's own clock would judge otherwise: test/lease-clock.test.ts).
 */
function claimNow(db: Db, clock: ManualClock) {
  return claimDue(db, {
    now: clock.now(),
    leaseClock: 'node',
    limit: 10,
    leaseMs: 60_000,
    excludeOrigins: [],
    lockRows: traitsOf(db).concurrentWriters,
  });
}

for (const engine of engines) {
  describe(`a change while the head is on the wire, on ${engine}`, () => {
    let h: Harness | undefined;
    let channelId: string | undefined;
    afterEach(() => h?.close());

    async function setUp(options: { changeDuringVerification?: boolean } = {}) {
      const clock = new ManualClock(Date.UTC(2026, 10, 25, 9, 0, 0));
      h = await startHarness({ clock, engine });
      const account: TestAccount = await createTestAccount(h.service);
      channelId = (await watchAccount(h.service, account, 'http://127.0.0.1:9/hook')).id;
      const db = h.service.store.db;
      const claim = () => claimNow(db, clock);
      const attempt = () => ({ at: clock.now(), status: 200, error: null, latencyMs: 1 });
      const delivered = (d: Delivery): Completion => ({
        kind: 'delivered',
        delivery: d,
        attempt: attempt(),
      });
      const record = (c: Completion) => recordCompletions(db, [c], clock.now());
      const change = (id: string) => touchEvent(h!.service, account, id);
      const [verification] = await claim();
      assert.equal(verification?.kind, 'verification');
      if (options.changeDuringVerification) await change('during-verification');
      await record(delivered(verification));
      const queuedRows = () =>
        db
          .selectFrom('notifications')
          .select(['id', 'state'])
          .where('state', 'in', ['pending', 'sending'])
          .orderBy('id')
          .execute();
      const failed = (d: Delivery): Completion => ({
        kind: 'retry',
        delivery: d,
        attempt: { ...attempt(), status: 500 },
        retryAt: clock.now() + 5_000,
        failingSince: clock.now(),
      });
      /** Change a is claimed (the head on the wire), then change b comes a second later. */
      const sendWithChangeBehind = async () => {
        const firstAt = clock.now();
        await change('a');
        const [head] = await claim();
        assert.equal(head?.changesSince, firstAt);
        clock.advance(1_000);
        const secondAt = clock.now();
        await change('b');
        return { head, firstAt, secondAt };
      };
      return {
        clock,
        claim,
        record,
        delivered,
        failed,
        change,
        queuedRows,
        sendWithChangeBehind,
      };
    }

    test('is not merged into the head: it goes out after it, as its own notification', async () => {
      const { claim, record, delivered, sendWithChangeBehind } = await setUp();
      const { head, secondAt } = await sendWithChangeBehind();
      await record(delivered(head));
      const [next] = await claim();
      assert.ok(next, 'the change that came during the send is still queued');
      assert.notEqual(next.notificationId, head.notificationId);
      assert.equal(next.changesSince, secondAt);
    });

    test('merges into the head when its send fails, which carries the earlier changes_since', async () => {
      const { clock, claim, record, failed, delivered, queuedRows, sendWithChangeBehind } =
        await setUp();
      const { head, firstAt } = await sendWithChangeBehind();
      await record(failed(head));
      assert.equal((await queuedRows()).length, 1, 'one notification covers both changes');
      assert.deepEqual(await claim(), [], 'the retry waits for its time');
      clock.advance(5_000);
      const [retry] = await claim();
      assert.equal(retry?.notificationId, head.notificationId);
      assert.equal(retry.changesSince, firstAt);
      assert.equal(retry.attempts, 1);
      await record(delivered(retry));
      assert.deepEqual(await queuedRows(), []);
    });

    const giveBack = {
      'a head handed back unsent': (head: Delivery) => releaseClaims(h!.service.store.db, [head]),
      'a head on the wire at a restart': () => releaseAllLeases(h!.service.store.db),
    };
    for (const [what, putBack] of Object.entries(giveBack)) {
      test(`${what} takes in the change queued behind it: they go out as one`, async () => {
        const { claim, record, delivered, queuedRows, sendWithChangeBehind } = await setUp();
        const { head, firstAt } = await sendWithChangeBehind();
        await putBack(head);
        const [again] = await claim();
        assert.equal(again?.notificationId, head.notificationId);
        assert.equal(again.changesSince, firstAt);
        await record(delivered(again));
        assert.deepEqual(await queuedRows(), []);
      });
    }

    test('a change of another kind during a send queues behind it', async () => {
      const { clock, claim, record, delivered } = await setUp({ changeDuringVerification: true });
      clock.advance(60_000);
      const [next] = await claim();
      assert.equal(next?.kind, 'change');
      await record(delivered(next));
      assert.deepEqual(await claim(), []);
    });

    test('a change queued by a caller that did not read the heads is not merged either', async () => {
      const { clock, claim, record, delivered } = await setUp();
      const db = h!.service.store.db;
      const firstAt = clock.now();
      const queue = (at: number) =>
        db.transaction().execute((trx) => enqueue(trx, [channelId!], 'change', at, at));
      await queue(firstAt);
      const [head] = await claim();
      assert.equal(head?.changesSince, firstAt);
      clock.advance(1_000);
      await queue(clock.now());
      await record(delivered(head));
      const [next] = await claim();
      assert.equal(next?.changesSince, firstAt + 1_000);
    });

    describe('an outcome that comes after another claim took the channel over', () => {
      /** Claim 1 sends A; its lease runs out; claim 2 sends A again; change b comes. */
      async function takenOver() {
        const t = await setUp();
        const firstAt = t.clock.now();
        await t.change('a');
        const [first] = await t.claim();
        assert.ok(first);
        t.clock.advance(61_000);
        const [second] = await t.claim();
        assert.equal(second?.notificationId, first.notificationId);
        t.clock.advance(1_000);
        const secondAt = t.clock.now();
        await t.change('b');
        return { ...t, first, second, firstAt, secondAt };
      }

      /** At its time, the retry sends the head again, with the first change's time. */
      async function retryCoversBoth(t: Awaited<ReturnType<typeof takenOver>>) {
        t.clock.advance(5_000);
        const [retry] = await t.claim();
        assert.equal(retry?.notificationId, t.first.notificationId);
        assert.equal(retry.changesSince, t.firstAt);
      }

      test('a late success after the new holder failed leaves the retry, which covers b', async () => {
        const t = await takenOver();
        await t.record(t.failed(t.second));
        await t.record(t.delivered(t.first));
        assert.equal((await t.queuedRows()).length, 1);
        await retryCoversBoth(t);
      });

      test('a late success, then the new holder fails: the retry covers b', async () => {
        const t = await takenOver();
        await t.record(t.delivered(t.first));
        await t.record(t.failed(t.second));
        await retryCoversBoth(t);
      });

      test('a late decision to close leaves the channel to its new holder', async () => {
        const t = await takenOver();
        await t.record({
          kind: 'close',
          delivery: t.first,
          attempt: { ...t.delivered(t.first).attempt, status: 500 },
          reason: 'delivery failed continuously for 24 hours',
        });
        const { state } = await h!.service.store.db
          .selectFrom('channels')
          .select('state')
          .where('id', '=', channelId!)
          .executeTakeFirstOrThrow();
        assert.equal(state, 'active');
        await t.record(t.delivered(t.second));
        t.clock.advance(1_000);
        const [next] = await t.claim();
        assert.equal(next?.changesSince, t.secondAt);
      });

      for (const late of ['handed back', 'failed'] as const) {
        test(`a late ${late} claim, then the new holder succeeds: b goes out next`, async () => {
          const t = await takenOver();
          if (late === 'handed back') await releaseClaims(h!.service.store.db, [t.first]);
          else await t.record(t.failed(t.first));
          await t.record(t.delivered(t.second));
          t.clock.advance(1_000);
          const [next] = await t.claim();
          assert.ok(next, 'b is still queued');
          assert.notEqual(next.notificationId, t.first.notificationId);
          assert.equal(next.changesSince, t.secondAt);
        });
      }
    });
  });
}

for (const engine of engines) {
  test(`upgrading a store mid-send records the head its lease had marked as sending, on ${engine}`, async () => {
    const clock = new ManualClock(Date.UTC(2026, 10, 25, 9, 0, 0));
    const h = await startHarness({ clock, engine });
    try {
      const account = await createTestAccount(h.service);
      const channel = await watchAccount(h.service, account, 'http://127.0.0.1:9/hook');
      const db = h.service.store.db;
      const claim = () => claimNow(db, clock);
      const [head] = await claim();
      assert.ok(head);
      // The store as the version before 006 left it: the head moved to `sending`, no column.
      await db
        .updateTable('notifications')
        .set({ state: 'sending' })
        .where('id', '=', head.notificationId)
        .execute();
      await sql`alter table channels drop column sending_id`.execute(db);
      await upSendingOnChannel(db as unknown as Kysely<unknown>);
      const row = await db
        .selectFrom('channels')
        .select('sending_id')
        .where('id', '=', channel.id)
        .executeTakeFirstOrThrow();
      assert.equal(Number(row.sending_id), head.notificationId);
      // A change during the send queues behind the old head, which is then delivered.
      clock.advance(1_000);
      const changedAt = clock.now();
      await touchEvent(h.service, account, 'after-upgrade');
      const attempt = { at: clock.now(), status: 200, error: null, latencyMs: 1 };
      await recordCompletions(db, [{ kind: 'delivered', delivery: head, attempt }], clock.now());
      const sent = await db
        .selectFrom('notifications')
        .select('state')
        .where('id', '=', head.notificationId)
        .executeTakeFirstOrThrow();
      assert.equal(sent.state, 'delivered');
      const [next] = await claim();
      assert.equal(next?.changesSince, changedAt);
    } finally {
      await h.close();
    }
  });
}
