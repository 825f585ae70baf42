import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import type { Kysely } from 'kysely';
import { createTestAccount, startHarness, watchAccount } from './support/harness.ts';
import { engines } from './support/postgres.ts';
import { ManualClock } from '../src/domain/clock.ts';
import { createGoogleChannel } from '../src/faces/google/watch.ts';
import { renderGoogleNotification } from '../src/faces/google/notification-renderer.ts';
import { claimDue } from '../src/store/queue/claim.ts';
import { DeliverySecrets } from '../src/delivery/delivery-secrets.ts';
import { up as upDialectSettings } from '../src/store/migrations/007-dialect-settings-in-interest.ts';

for (const engine of engines) {
  test(`upgrading moves a Google channel's resource id and URI into its settings, on ${engine}`, async () => {
    const clock = new ManualClock(Date.UTC(2026, 11, 6, 9, 0, 0));
    const h = await startHarness({ clock, engine });
    try {
      const account = await createTestAccount(h.service);
      const cronofy = await watchAccount(h.service, account, 'http://127.0.0.1:9/cronofy');
      const google = await createGoogleChannel(h.service.core, {
        accountId: account.accountId,
        clientId: account.clientId,
        publicId: 'chan-1',
        address: 'http://127.0.0.1:9/google',
        token: 'tok',
        requestedExpiry: null,
        resource: { kind: 'events', calendarId: account.calendarId },
        resourceId: 'res-1',
        resourceUri: 'http://127.0.0.1/calendar/v3/calendars/x/events?alt=json',
      });
      const db = h.service.store.db;
      const interestOf = async (id: string) =>
        (
          await db
            .selectFrom('channels')
            .select('interest_json')
            .where('id', '=', id)
            .executeTakeFirstOrThrow()
        ).interest_json;
      const cronofyText = await interestOf(cronofy.id);
      // The store as the version before 007 left it: two columns, settings without the ids.
      await sql`alter table channels add column resource_id text`.execute(db);
      await sql`alter table channels add column resource_uri text`.execute(db);
      const oldSettings = JSON.stringify({
        dialect: 'google',
        resource: { kind: 'events', calendarId: account.calendarId },
      });
      await sql`update channels set interest_json = ${oldSettings}, resource_id = ${'res-1'},
        resource_uri = ${'http://127.0.0.1/calendar/v3/calendars/x/events?alt=json'}
        where id = ${google.id}`.execute(db);

      await upDialectSettings(db as unknown as Kysely<unknown>);

      assert.equal(await interestOf(cronofy.id), cronofyText);
      assert.deepEqual(JSON.parse(await interestOf(google.id)), {
        dialect: 'google',
        resource: { kind: 'events', calendarId: account.calendarId },
        resourceId: 'res-1',
        resourceUri: 'http://127.0.0.1/calendar/v3/calendars/x/events?alt=json',
      });
      const oldColumn = await sql<{ n: number }>`select count(*) as n from channels
        where resource_id is null`
        .execute(db)
        .then(
          () => 'kept',
          () => 'dropped',
        );
      assert.equal(oldColumn, 'dropped');
      // The sync message still names the watched resource as before the upgrade.
      const claimed = await claimDue(db, {
        now: clock.now(),
        limit: 10,
        leaseMs: 60_000,
        excludeOrigins: [],
        lockRows: engine === 'postgres',
      });
      const sync = claimed.find((d) => d.channel.id === google.id);
      assert.ok(sync);
      const secrets = new DeliverySecrets(h.service.core.secrets);
      const { headers } = renderGoogleNotification(sync, secrets.of(sync));
      assert.equal(headers['x-goog-resource-id'], 'res-1');
      assert.equal(
        headers['x-goog-resource-uri'],
        'http://127.0.0.1/calendar/v3/calendars/x/events?alt=json',
      );
    } finally {
      await h.close();
    }
  });
}
