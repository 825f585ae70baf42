import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createTestAccount, startHarness } from './support/harness.ts';
import { callApi } from './support/api.ts';
import { Receiver } from './support/receiver.ts';
import { engines } from './support/postgres.ts';

test('an account holds at most CALPUSH_MAX_CHANNELS_PER_ACCOUNT channels on each face', async () => {
  const h = await startHarness({ env: { CALPUSH_MAX_CHANNELS_PER_ACCOUNT: '3' } });
  try {
    const account = await createTestAccount(h.service);
    const watch = (i: number) =>
      callApi<{ error?: { code: number; errors: { reason: string }[] } }>(
        h.service,
        account.accessToken,
        'POST',
        `/calendar/v3/calendars/${account.calendarId}/events/watch`,
        { id: `cap-${i}`, type: 'web_hook', address: `https://hooks.example.com/${i}` },
      );
    for (let i = 0; i < 3; i++) assert.equal((await watch(i)).status, 200);
    const over = await watch(3);
    assert.equal(over.status, 403);
    assert.equal(over.json.error?.errors[0]?.reason, 'quotaExceeded');
    // Stopping one makes room again.
    const stopped = await callApi(
      h.service,
      account.accessToken,
      'POST',
      '/calendar/v3/channels/stop',
      {
        id: 'cap-0',
        resourceId: (
          await h.service.store.db
            .selectFrom('channels')
            .select('interest_json')
            .where('public_id', '=', 'cap-0')
            .executeTakeFirstOrThrow()
            .then((r) => JSON.parse(r.interest_json) as { resourceId: string })
        ).resourceId,
      },
    );
    assert.equal(stopped.status, 204);
    assert.equal((await watch(4)).status, 200);
    // The Cronofy face has its own three.
    for (let i = 0; i < 3; i++) {
      const made = await callApi(h.service, account.accessToken, 'POST', '/v1/channels', {
        callback_url: `https://hooks.example.com/c${i}`,
      });
      assert.equal(made.status, 200);
    }
    const refused = await callApi<{ errors: Record<string, unknown> }>(
      h.service,
      account.accessToken,
      'POST',
      '/v1/channels',
      { callback_url: 'https://hooks.example.com/c3' },
    );
    assert.equal(refused.status, 422);
    assert.ok('callback_url' in refused.json.errors);
  } finally {
    await h.close();
  }
});

for (const engine of engines) {
  test(`reactivating a closed channel counts against the per-account limit, on ${engine}`, async () => {
    const receiver = await Receiver.start();
    const h = await startHarness({
      engine,
      env: { CALPUSH_MAX_CHANNELS_PER_ACCOUNT: '1', CALPUSH_MIN_INTERVAL_MS: '0' },
    });
    try {
      const account = await createTestAccount(h.service);
      const api = <J>(method: string, path: string, body?: unknown) =>
        callApi<J>(h.service, account.accessToken, method, path, body);
      const deliver = () => h.service.dispatcher.runUntilIdle();
      // Each face: a channel the receiver calls gone closes, which frees its room.
      receiver.reply = { status: 410 };
      const gone = await api('POST', `/calendar/v3/calendars/${account.calendarId}/events/watch`, {
        id: 'g-gone',
        type: 'web_hook',
        address: `${receiver.url}/g-gone`,
      });
      assert.equal(gone.status, 200);
      const cronofyGone = await api<{ channel: { channel_id: string } }>('POST', '/v1/channels', {
        callback_url: `${receiver.url}/c-gone`,
      });
      assert.equal(cronofyGone.status, 200);
      await deliver();
      receiver.reply = { status: 200 };
      const live = await api('POST', `/calendar/v3/calendars/${account.calendarId}/events/watch`, {
        id: 'g-live',
        type: 'web_hook',
        address: `${receiver.url}/g-live`,
      });
      assert.equal(live.status, 200);
      const cronofyLive = await api('POST', '/v1/channels', {
        callback_url: `${receiver.url}/c-live`,
      });
      assert.equal(cronofyLive.status, 200);

      const google = await api<{ error: { code: number; errors: { reason: string }[] } }>(
        'POST',
        '/calendar/v3/calpush/channels/g-gone/reactivate',
      );
      assert.equal(google.status, 403);
      assert.equal(google.json.error.errors[0]?.reason, 'quotaExceeded');
      const cronofy = await api<{ errors: Record<string, unknown> }>(
        'POST',
        `/v1/channels/${cronofyGone.json.channel.channel_id}/reactivate`,
      );
      assert.equal(cronofy.status, 422);
      assert.ok('channel_id' in cronofy.json.errors);
      const states = await h.service.store.db
        .selectFrom('channels')
        .select(['public_id', 'state'])
        .where('state', '=', 'active')
        .execute();
      assert.equal(states.length, 2, 'nothing was reopened');

      // Closing the live Google channel makes room for the old one again.
      const resourceId = await h.service.store.db
        .selectFrom('channels')
        .select('interest_json')
        .where('public_id', '=', 'g-live')
        .executeTakeFirstOrThrow()
        .then((r) => (JSON.parse(r.interest_json) as { resourceId: string }).resourceId);
      const stopped = await api('POST', '/calendar/v3/channels/stop', { id: 'g-live', resourceId });
      assert.equal(stopped.status, 204);
      const reopened = await api('POST', '/calendar/v3/calpush/channels/g-gone/reactivate');
      assert.equal(reopened.status, 200);
    } finally {
      await h.close();
      await receiver.close();
    }
  });
}
