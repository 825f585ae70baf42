import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Harness, TestAccount } from './support/harness.ts';
import { createTestAccount, startHarness } from './support/harness.ts';
import { engines } from './support/postgres.ts';
import { Receiver } from './support/receiver.ts';
import { ManualClock } from '../src/domain/clock.ts';
import { createCronofyChannel } from '../src/core/channels.ts';
import { pruneHistory } from '../src/store/retention.ts';
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
      await createCronofyChannel(h.service.core, {
        accountId: account.accountId,
        clientId: account.clientId,
        callbackUrl: `${receiver.url}/r`,
        calendarIds: null,
        onlyManaged: false,
      });
      await h.service.dispatcher.runUntilIdle(); // verification delivered, one attempt
      clock.advance(8 * DAY);
      receiver.reply = { status: 500 };
      await touchEvent(h.service, account, 'e1');
      await h.service.dispatcher.runUntilIdle(); // a change, failing: pending with one attempt

      const removed = await pruneHistory(h.service.store.db, clock.now());
      assert.deepEqual(removed, { notifications: 1, attempts: 1 });
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
  });
}
