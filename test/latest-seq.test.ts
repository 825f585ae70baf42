import { afterEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Harness } from './support/harness.ts';
import { createTestAccount, startHarness, watchAccount } from './support/harness.ts';
import { engines } from './support/postgres.ts';
import { ManualClock } from '../src/domain/clock.ts';
import { claimDue } from '../src/store/queue/claim.ts';
import { recordCompletions } from '../src/store/queue/complete.ts';
import { releaseClaims } from '../src/store/queue/release.ts';
import { enqueue } from '../src/store/outbox.ts';
import { queueMarked } from '../src/store/replays.ts';
import { inTransaction } from '../src/store/transaction.ts';

const KIND = 'updated Events/evt_1';

for (const engine of engines) {
  describe(`a notification's latest change on ${engine}`, () => {
    let h: Harness | undefined;
    afterEach(() => h?.close());

    test('coalescing raises it; a claim handed back takes it from what queued behind', async () => {
      const clock = new ManualClock();
      h = await startHarness({ clock, engine });
      const account = await createTestAccount(h.service);
      const channel = await watchAccount(h.service, account, 'http://127.0.0.1:9/x');
      const db = h.service.store.db;
      const opts = {
        limit: 10,
        leaseMs: 60_000,
        excludeOrigins: [],
        lockRows: h.service.store.traits.concurrentWriters,
      };
      // The channel's first message, out of the way.
      const [verification] = await claimDue(db, { ...opts, now: clock.now() });
      assert.ok(verification);
      const attempt = { at: clock.now(), status: 200, error: null, latencyMs: 1 };
      await recordCompletions(
        db,
        [{ kind: 'delivered', delivery: verification, attempt }],
        clock.now(),
      );
      const queue = (seq: number) =>
        inTransaction(db, (trx) =>
          enqueue(trx, [channel.id], KIND, clock.now(), null, 'unread', seq),
        );
      const live = () =>
        db
          .selectFrom('notifications')
          .select(['id', 'state', 'latest_seq'])
          .where('channel_id', '=', channel.id)
          .where('kind', '=', KIND)
          .where('state', 'in', ['pending', 'sending'])
          .orderBy('id')
          .execute();

      await queue(5);
      await queue(7);
      const [waiting] = await live();
      assert.equal(Number(waiting?.latest_seq), 7);

      const [head] = await claimDue(db, { ...opts, now: clock.now() });
      assert.equal(head?.latestSeq, 7);
      // A change while the head is out: a row of its own behind it.
      await queue(9);
      assert.equal((await live()).length, 2);
      await releaseClaims(db, [head]);
      const after = await live();
      assert.deepEqual(
        after.map((r) => [Number(r.id), r.state, Number(r.latest_seq)]),
        [[head.notificationId, 'pending', 9]],
      );
    });

    test('a change merging into a queued replay makes it ordinary, with or without a latest change', async () => {
      const clock = new ManualClock();
      h = await startHarness({ clock, engine });
      const account = await createTestAccount(h.service);
      const channel = await watchAccount(h.service, account, 'http://127.0.0.1:9/x');
      const db = h.service.store.db;
      const marked = (kind: string) =>
        inTransaction(db, (trx) =>
          queueMarked(trx, {
            channelId: channel.id,
            kind,
            changesSince: 5,
            purpose: 'replay',
            replayOf: 1,
            now: clock.now(),
          }),
        );
      const rowOf = (id: number) =>
        db
          .selectFrom('notifications')
          .select(['replay_of', 'purpose', 'latest_seq', 'changes_since', 'state'])
          .where('id', '=', id)
          .executeTakeFirstOrThrow();
      const latest = await marked(KIND);
      const plain = await marked('change');
      await inTransaction(db, (trx) =>
        enqueue(trx, [channel.id], KIND, clock.now(), 7, 'unread', 9),
      );
      await inTransaction(db, (trx) =>
        enqueue(trx, [channel.id, channel.id], 'change', clock.now(), 7),
      );
      for (const [mark, seq] of [
        [latest, 9],
        [plain, null],
      ] as const) {
        const row = await rowOf(mark.notificationId);
        assert.deepEqual(
          [row.replay_of, row.purpose, row.latest_seq === null ? null : Number(row.latest_seq)],
          [null, null, seq],
        );
        assert.equal(Number(row.changes_since), 5, 'it still covers the replayed change');
        assert.equal(row.state, 'pending');
      }
      const queued = await db
        .selectFrom('notifications')
        .select('id')
        .where('channel_id', '=', channel.id)
        .where('state', '=', 'pending')
        .where('kind', 'in', [KIND, 'change'])
        .execute();
      assert.equal(queued.length, 2, 'still one of a kind');
    });
  });
}
