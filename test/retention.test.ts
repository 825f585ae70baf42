import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Harness, TestAccount } from './support/harness.ts';
import { createTestAccount, startHarness, watchAccount } from './support/harness.ts';
import { engines } from './support/postgres.ts';
import { Receiver } from './support/receiver.ts';
import { ManualClock } from '../src/domain/clock.ts';
import { HistoryPruner, defaultRetention } from '../src/store/retention.ts';
import { touchEvent } from './support/events.ts';

const DAY = 24 * 60 * 60 * 1000;

for (const engine of engines) {
  describe(`retention on ${engine}`, () => {
    let h: Harness;
    let account: TestAccount;
    let receiver: Receiver;
    const clock = new ManualClock();

    before(async () => {
      receiver = await Receiver.start();
      h = await startHarness({ clock, engine });
      account = await createTestAccount(h.service);
    });
    after(async () => {
      await h.close();
      await receiver.close();
    });

    test('old delivery history is pruned, pending work never', async () => {
      await watchAccount(h.service, account, `${receiver.url}/r`);
      await h.service.dispatcher.runUntilIdle(); // verification delivered, one attempt
      clock.advance(8 * DAY);
      receiver.reply = { status: 500 };
      await touchEvent(h.service, account, 'e1');
      await h.service.dispatcher.runUntilIdle(); // a change, failing: pending with one attempt

      const removed = await new HistoryPruner(h.service.store.db).prune(clock.now());
      assert.deepEqual(
        { notifications: removed.notifications, attempts: removed.attempts },
        { notifications: 1, attempts: 1 },
      );
      const left = await h.service.store.db
        .selectFrom('notifications')
        .select(['kind', 'state'])
        .execute();
      assert.deepEqual(
        left.map((row) => ({ ...row })),
        [{ kind: 'change', state: 'pending' }],
      );
      const attempts = await h.service.store.db.selectFrom('attempts').select('id').execute();
      assert.equal(attempts.length, 1);
    });

    test('the delivery log keeps its own retention (CALPUSH_DELIVERY_LOG_DAYS)', async () => {
      const db = h.service.store.db;
      await db.deleteFrom('attempts').execute();
      receiver.reply = { status: 200 };
      await watchAccount(h.service, account, `${receiver.url}/log-days`);
      await h.service.dispatcher.runUntilIdle();
      clock.advance(2 * DAY);
      const pruner = new HistoryPruner(db, { ...defaultRetention, attemptsKeepMs: DAY });
      const removed = await pruner.prune(clock.now());
      assert.equal(removed.attempts, 1, 'an attempt older than a day goes');
      assert.equal(removed.notifications, 0, 'its notification stays the week');
      await pruner.stop();
    });

    test('the change log drops old entries but keeps each account its newest', async () => {
      const other = await createTestAccount(h.service, 'quiet@example.com');
      await touchEvent(h.service, other, 'q1'); // this account's only change
      await touchEvent(h.service, account, 'a1');
      await touchEvent(h.service, account, 'a2');
      clock.advance(8 * DAY);
      await touchEvent(h.service, account, 'a3');
      await new HistoryPruner(h.service.store.db).prune(clock.now());
      const left = async (accountId: string) =>
        (
          await h.service.store.db
            .selectFrom('changes')
            .select('resource_id')
            .where('account_id', '=', accountId)
            .execute()
        ).length;
      assert.equal(await left(account.accountId), 1, 'only the recent change stays');
      assert.equal(await left(other.accountId), 1, 'an old change that is the newest stays');
    });

    /** A new channel on an empty history: no attempts, and not even its verification queued. */
    async function channelWithoutHistory(path: string) {
      const db = h.service.store.db;
      await db.deleteFrom('attempts').execute();
      await db.deleteFrom('notifications').execute();
      const channel = await watchAccount(h.service, account, `${receiver.url}${path}`);
      await db.deleteFrom('notifications').execute();
      return channel;
    }

    test('passes sweep in small windows, keep what must stay, and catch up over passes', async () => {
      const db = h.service.store.db;
      const channel = await channelWithoutHistory('/w');
      const old = clock.now() - 8 * DAY;
      // 25 finished notifications with an attempt each, all old, with one pending (old too)
      // among them and two recent ones at the end.
      const rows = Array.from({ length: 28 }, (_, i) => ({
        channel_id: channel.id,
        kind: 'change',
        state: i === 3 ? 'pending' : 'delivered',
        changes_since: null,
        created_at: i >= 26 ? clock.now() : old + i,
        due_at: old,
        attempts: 1,
        delivered_at: old,
      }));
      for (const row of rows) await db.insertInto('notifications').values(row).execute();
      const ids = (await db.selectFrom('notifications').select('id').orderBy('id').execute()).map(
        (r) => Number(r.id),
      );
      for (const [i, id] of ids.entries()) {
        await db
          .insertInto('attempts')
          .values({
            notification_id: id,
            channel_id: channel.id,
            at: i >= 26 ? clock.now() : old + i,
            status: 200,
            error: null,
            latency_ms: 1,
            decision: 'delivered',
          })
          .execute();
      }

      // Windows of 4 rows, 2 windows a pass: a pass removes at most 8 rows of a table.
      const pruner = new HistoryPruner(db, { ...defaultRetention, batch: 4, windowsPerPass: 2 });
      const first = await pruner.prune(clock.now());
      assert.deepEqual({ n: first.notifications, a: first.attempts }, { n: 7, a: 8 });
      let total = first;
      for (let pass = 0; pass < 10; pass++) {
        const more = await pruner.prune(clock.now());
        total = {
          notifications: total.notifications + more.notifications,
          attempts: total.attempts + more.attempts,
          changes: total.changes + more.changes,
        };
      }
      assert.equal(total.notifications, 25, 'every old finished notification went');
      assert.equal(total.attempts, 26, 'every old attempt went');
      const left = await db
        .selectFrom('notifications')
        .select(['state', 'created_at'])
        .orderBy('id')
        .execute();
      assert.deepEqual(
        left.map((r) => r.state),
        ['pending', 'delivered', 'delivered'],
      );
      assert.equal(
        (await db.selectFrom('attempts').select('id').execute()).length,
        2,
        'the recent attempts stay',
      );

      // Once stopped (the service is closing), a pass touches nothing.
      clock.advance(8 * DAY);
      await pruner.stop();
      assert.deepEqual(await pruner.prune(clock.now()), {
        notifications: 0,
        attempts: 0,
        changes: 0,
      });
      assert.equal((await db.selectFrom('attempts').select('id').execute()).length, 2);
    });

    test('a kept row is read again only when a sweep restarts from the oldest', async () => {
      const db = h.service.store.db;
      const channel = await channelWithoutHistory('/k');
      const old = clock.now() - 8 * DAY;
      const row = (state: string, createdAt: number) => ({
        channel_id: channel.id,
        kind: state === 'pending' ? 'change' : 'sync',
        state,
        changes_since: null,
        created_at: createdAt,
        due_at: old,
        attempts: 1,
        delivered_at: null,
      });
      await db.insertInto('notifications').values(row('pending', old)).execute();
      for (let i = 1; i < 6; i++) {
        await db
          .insertInto('notifications')
          .values(row('delivered', old + i))
          .execute();
      }
      await db.insertInto('notifications').values(row('delivered', clock.now())).execute();
      const pruner = new HistoryPruner(db, {
        ...defaultRetention,
        batch: 2,
        windowsPerPass: 10,
        restartEvery: 3,
      });
      assert.equal((await pruner.prune(clock.now())).notifications, 5);
      // The pending one is delivered at last; sweeps go on past it until they restart.
      await db
        .updateTable('notifications')
        .set({ state: 'delivered' })
        .where('state', '=', 'pending')
        .execute();
      assert.equal((await pruner.prune(clock.now())).notifications, 0);
      assert.equal((await pruner.prune(clock.now())).notifications, 0);
      assert.equal(
        (await pruner.prune(clock.now())).notifications,
        1,
        'the fourth pass starts from the oldest again (every third)',
      );
    });

    test('stop waits for the pass under way, which ends after its current window', async () => {
      const db = h.service.store.db;
      await db.deleteFrom('attempts').execute();
      const old = clock.now() - 8 * DAY;
      for (let i = 0; i < 20; i++) {
        await db
          .insertInto('attempts')
          .values({
            notification_id: i,
            channel_id: 'chn_stop',
            at: old + i,
            status: 200,
            error: null,
            latency_ms: 1,
            decision: 'delivered',
          })
          .execute();
      }
      const pruner = new HistoryPruner(db, { ...defaultRetention, batch: 3, windowsPerPass: 100 });
      let settled = false;
      const pass = pruner.prune(clock.now()).then((r) => {
        settled = true;
        return r;
      });
      await pruner.stop();
      assert.ok(settled, 'stop returned only after the pass had ended');
      assert.equal((await pass).attempts, 3, 'one window, then the pass ended');
    });
  });
}
