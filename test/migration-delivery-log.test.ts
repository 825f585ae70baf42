import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import type { Kysely } from 'kysely';
import { createTestAccount, startHarness, watchAccount } from './support/harness.ts';
import { engines } from './support/postgres.ts';
import { callApi } from './support/api.ts';
import { Receiver } from './support/receiver.ts';
import { ManualClock } from '../src/domain/clock.ts';
import { up as upDeliveryLog } from '../src/store/migrations/015-delivery-log.ts';

for (const engine of engines) {
  test(`upgrading keeps the attempts logged before, readable and replayable, on ${engine}`, async () => {
    const clock = new ManualClock(Date.UTC(2026, 11, 6, 9, 0, 0));
    const receiver = await Receiver.start();
    const h = await startHarness({ clock, engine });
    try {
      const account = await createTestAccount(h.service);
      const channel = await watchAccount(h.service, account, `${receiver.url}/hook`);
      await h.service.dispatcher.runUntilIdle();
      const db = h.service.store.db;
      // The store as the version before 011 left it, with its one attempt.
      await sql`drop index attempts_notification`.execute(db);
      await sql`drop table admin_tokens`.execute(db);
      for (const column of [
        'kind',
        'dialect',
        'error_class',
        'response_excerpt',
        'next_retry_at',
        'purpose',
      ]) {
        await sql`alter table attempts drop column ${sql.ref(column)}`.execute(db);
      }
      for (const column of ['replay_of', 'purpose']) {
        await sql`alter table notifications drop column ${sql.ref(column)}`.execute(db);
      }
      await upDeliveryLog(db as unknown as Kysely<unknown>, {
        autoId: () => {
          throw new Error('011 makes no table with an id');
        },
        tokenRevocationCounter: () => {
          throw new Error('011 makes no trigger');
        },
      });

      const log = await callApi<{
        attempts: { notification_id: string; kind: null; outcome: string }[];
      }>(h.service, account.accessToken, 'GET', `/v1/channels/${channel.id}/attempts`);
      assert.equal(log.status, 200);
      assert.equal(log.json.attempts.length, 1);
      assert.equal(log.json.attempts[0]?.kind, null, 'attempts logged before have no kind');
      assert.equal(log.json.attempts[0]?.outcome, 'delivered');
      const id = log.json.attempts[0]?.notification_id ?? '';
      const replay = await callApi(
        h.service,
        account.accessToken,
        'POST',
        `/v1/notifications/${id}/replay`,
      );
      assert.equal(replay.status, 202);
      await h.service.dispatcher.runUntilIdle();
      assert.equal(receiver.requests.at(-1)?.headers['calpush-notification-id'], id);
      assert.equal(receiver.requests.at(-1)?.headers['calpush-replay'], '1');
    } finally {
      await h.close();
      await receiver.close();
    }
  });
}
