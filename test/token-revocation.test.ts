import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import Cronofy from 'cronofy';
import type { Harness } from './support/harness.ts';
import { createTestAccount, startHarness, watchAccount } from './support/harness.ts';
import { engines } from './support/postgres.ts';
import { callApi } from './support/api.ts';
import { ManualClock } from '../src/domain/clock.ts';
import { issueAccessToken, revokeAccessTokens } from '../src/core/access-tokens.ts';
import { findChannel } from '../src/core/channels.ts';

async function revoke(h: Harness, body: string, contentType = 'application/json') {
  const response = await fetch(`${h.url}/oauth/token/revoke`, {
    method: 'POST',
    headers: { 'content-type': contentType },
    body,
  });
  const text = await response.text();
  return { status: response.status, json: text ? (JSON.parse(text) as unknown) : undefined };
}

for (const engine of engines) {
  describe(`revoking access tokens on ${engine}`, () => {
    let h: Harness;
    const clock = new ManualClock(Date.UTC(2026, 11, 6, 9, 0, 0));
    before(async () => {
      h = await startHarness({ listen: true, engine, clock });
    });
    after(() => h.close());

    test('a revoked token is refused at once, though this process had just checked it', async () => {
      const account = await createTestAccount(h.service);
      const spare = await issueAccessToken(h.service.core, account.accountId);
      const calendars = () => callApi(h.service, account.accessToken, 'GET', '/v1/calendars');
      assert.equal((await calendars()).status, 200);
      // Checked a moment ago, so remembered (the clock does not move): still refused.
      const r = await revokeAccessTokens(h.service.core, { token: account.accessToken });
      assert.deepEqual(r, { revoked: 1, remaining: 1, closedChannels: 0, noticedChannels: 0 });
      assert.equal((await calendars()).status, 401);
      assert.equal((await callApi(h.service, spare, 'GET', '/v1/calendars')).status, 200);
    });

    test('the cronofy SDK revokes its token; the account left without one has its channels closed', async () => {
      const account = await createTestAccount(h.service);
      const channel = await watchAccount(h.service, account, 'http://127.0.0.1:9/hook');
      const sdk = new Cronofy({
        client_id: account.clientId,
        client_secret: account.clientSecret,
        access_token: account.accessToken,
      });
      sdk.urls.api = h.url;
      await sdk.revokeAuthorization({ token: account.accessToken });
      const refused = await callApi(h.service, account.accessToken, 'GET', '/v1/channels');
      assert.equal(refused.status, 401);
      assert.equal(await findChannel(h.service.core, { id: channel.id }), undefined);
      const closed = await h.service.store.db
        .selectFrom('channels')
        .select(['state', 'closed_reason'])
        .where('id', '=', channel.id)
        .executeTakeFirstOrThrow();
      assert.deepEqual(closed, { state: 'closed', closed_reason: 'authorization_revoked' });
    });

    test('the client must authenticate, and cannot revoke another client’s token', async () => {
      const mine = await createTestAccount(h.service, 'mine@example.com');
      const theirs = await createTestAccount(h.service, 'theirs@example.com');
      const wrong = await revoke(
        h,
        JSON.stringify({
          client_id: mine.clientId,
          client_secret: 'nope',
          token: mine.accessToken,
        }),
      );
      assert.equal(wrong.status, 401);
      assert.deepEqual(wrong.json, {
        error: 'invalid_client',
        error_description: 'unknown client or wrong client secret',
      });
      // Another application's token: answered as for an unknown one, and left alone.
      const other = await revoke(
        h,
        JSON.stringify({
          client_id: mine.clientId,
          client_secret: mine.clientSecret,
          token: theirs.accessToken,
        }),
      );
      assert.equal(other.status, 200);
      const unknown = await revoke(
        h,
        JSON.stringify({
          client_id: mine.clientId,
          client_secret: mine.clientSecret,
          token: 'tok_x',
        }),
      );
      assert.equal(unknown.status, 200);
      assert.equal(
        (await callApi(h.service, theirs.accessToken, 'GET', '/v1/calendars')).status,
        200,
      );
      const missing = await revoke(
        h,
        JSON.stringify({ client_id: mine.clientId, client_secret: mine.clientSecret }),
      );
      assert.equal(missing.status, 400);
      assert.deepEqual(missing.json, {
        error: 'invalid_request',
        error_description: 'token is required',
      });
      const plain = await revoke(h, 'token=x', 'text/plain');
      assert.equal(plain.status, 415);
      // Form-encoded, as Cronofy also takes it.
      const form = await revoke(
        h,
        new URLSearchParams({
          client_id: theirs.clientId,
          client_secret: theirs.clientSecret,
          token: theirs.accessToken,
        }).toString(),
        'application/x-www-form-urlencoded',
      );
      assert.equal(form.status, 200);
      assert.equal(
        (await callApi(h.service, theirs.accessToken, 'GET', '/v1/calendars')).status,
        401,
      );
    });
  });
}
