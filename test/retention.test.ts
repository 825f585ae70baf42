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

    test('the change log drops old entries but keeps each account its newest', async () => {
      const other = await createTestAccount(h.service, 'quiet@example.com');
      await touchEvent(h.service, other, 'q1'); // this account's only change
      await touchEvent(h.service, account, 'a1');
      await touchEvent(h.service, account, 'a2');
      clock.advance(8 * DAY);
      await touchEvent(h.service, account, 'a3');
      await pruneHistory(h.service.store.db, clock.now());
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
  });
}
