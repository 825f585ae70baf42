import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createTestAccount, startHarness } from './support/harness.ts';
import { callApi } from './support/api.ts';

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
