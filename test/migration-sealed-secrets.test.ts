import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import type { Kysely } from 'kysely';
import { createTestAccount, startHarness, watchAccount } from './support/harness.ts';
import { engines } from './support/postgres.ts';
import { ManualClock } from '../src/domain/clock.ts';
import type { MigrationContext } from '../src/store/migrations/context.ts';
import { createGoogleChannel } from '../src/faces/google/watch.ts';
import { claimDue } from '../src/store/queue/claim.ts';
import { DeliverySecrets } from '../src/delivery/delivery-secrets.ts';
import { loadTokenSealer, TOKEN_KEY } from '../src/core/token-sealer.ts';
import { up as upSealedSecrets } from '../src/store/migrations/010-sealed-secrets.ts';

/** Only the sealer matters to this migration; it makes no table. */
const contextWith = (sealer?: MigrationContext['sealer']) =>
  ({ sealer, autoId: () => assert.fail('no table is made') }) as unknown as MigrationContext;

for (const engine of engines) {
  test(`upgrading seals client secrets, channel tokens and the token key, on ${engine}`, async () => {
    const clock = new ManualClock(Date.UTC(2026, 11, 6, 9, 0, 0));
    const h = await startHarness({ clock, engine });
    try {
      const account = await createTestAccount(h.service);
      const box = h.service.core.secrets;
      const cronofy = await watchAccount(h.service, account, 'http://127.0.0.1:9/cronofy');
      const google = await createGoogleChannel(h.service.core, {
        accountId: account.accountId,
        clientId: account.clientId,
        publicId: 'chan-1',
        address: 'http://127.0.0.1:9/google',
        token: 'target=ada',
        requestedExpiry: null,
        resource: { kind: 'events', calendarId: account.calendarId },
        resourceId: 'res-1',
        resourceUri: 'http://127.0.0.1/calendar/v3/calendars/x/events?alt=json',
      });
      const db = h.service.store.db;
      const pageToken = h.service.core.tokens.seal('page', { at: 1 });
      const tokenKey = box.open(
        (
          await db
            .selectFrom('meta')
            .select('value')
            .where('key', '=', TOKEN_KEY)
            .executeTakeFirstOrThrow()
        ).value,
      );

      // The store as the version before 010 left it: the same secrets, in clear.
      const toClear = async () => {
        await sql`alter table client_secrets rename column sealed_secret to secret`.execute(db);
        await sql`alter table channels rename column sealed_token to token`.execute(db);
        await sql`update client_secrets set secret = ${account.clientSecret}`.execute(db);
        await sql`update channels set token = ${'target=ada'} where id = ${google.id}`.execute(db);
        await sql`delete from meta where key = ${TOKEN_KEY}`.execute(db);
        await sql`insert into meta (key, value) values ('token_key', ${tokenKey})`.execute(db);
      };
      await toClear();

      // Without the key there is nothing to seal with: refused, and nothing changes.
      await assert.rejects(
        upSealedSecrets(db as unknown as Kysely<unknown>, contextWith(undefined)),
        /needs the secret key/,
      );
      const stillClear = await sql<{ secret: string }>`select secret from client_secrets`.execute(
        db,
      );
      assert.deepEqual(
        stillClear.rows.map((r) => r.secret),
        [account.clientSecret],
      );

      await upSealedSecrets(db as unknown as Kysely<unknown>, contextWith(box));
      const sealedRows = async () => ({
        secrets: await db.selectFrom('client_secrets').select('sealed_secret').execute(),
        channels: await db
          .selectFrom('channels')
          .select(['id', 'sealed_token'])
          .orderBy('id')
          .execute(),
        meta: await db.selectFrom('meta').selectAll().orderBy('key').execute(),
      });
      const after = await sealedRows();
      const text = JSON.stringify(after);
      assert.ok(!text.includes(account.clientSecret), 'no client secret in clear');
      assert.ok(!text.includes('target=ada'), 'no channel token in clear');
      assert.ok(!text.includes(tokenKey), 'no token key in clear');
      assert.deepEqual(
        after.secrets.map((r) => box.open(r.sealed_secret)),
        [account.clientSecret],
      );
      const tokens = new Map(after.channels.map((c) => [c.id, c.sealed_token]));
      assert.equal(box.open(tokens.get(google.id) ?? ''), 'target=ada');
      assert.equal(tokens.get(cronofy.id), null);
      assert.deepEqual(
        after.meta.filter((m) => m.key.includes('token_key')).map((m) => m.key),
        [TOKEN_KEY],
      );
      // The same token key, sealed: page and sync tokens handed out before still open.
      assert.deepEqual((await loadTokenSealer(db, box)).open('page', pageToken), { at: 1 });

      // Run again (a crash before the migrator recorded it): nothing is sealed twice.
      await upSealedSecrets(db as unknown as Kysely<unknown>, contextWith(box));
      assert.deepEqual(await sealedRows(), after);

      // Deliveries sign with the secret and echo the token as before.
      const claimed = await claimDue(db, {
        now: clock.now(),
        limit: 10,
        leaseMs: 60_000,
        excludeOrigins: [],
        lockRows: engine === 'postgres',
      });
      const secrets = new DeliverySecrets(box);
      const byChannel = new Map(claimed.map((d) => [d.channel.id, secrets.of(d)]));
      assert.deepEqual(byChannel.get(cronofy.id), {
        signingSecrets: [account.clientSecret],
        token: null,
      });
      assert.deepEqual(byChannel.get(google.id), {
        signingSecrets: [account.clientSecret],
        token: 'target=ada',
      });
    } finally {
      await h.close();
    }
  });
}
