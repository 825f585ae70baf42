import { afterEach, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Harness } from './support/harness.ts';
import { createTestAccount, startHarness } from './support/harness.ts';

let h: Harness | undefined;
afterEach(() => h?.close());

const post = (harness: Harness, token: string, path: string, body: unknown) =>
  harness.service.app.request(path, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });

test('an account may hold 128 channels; the 129th is a 422', async () => {
  h = await startHarness();
  const account = await createTestAccount(h.service);
  for (let i = 0; i < 128; i++) {
    const res = await post(h, account.accessToken, '/v1/channels', {
      callback_url: `http://127.0.0.1:9/${i}`,
    });
    assert.equal(res.status, 200);
  }
  const over = await post(h, account.accessToken, '/v1/channels', {
    callback_url: 'http://127.0.0.1:9/over',
  });
  assert.equal(over.status, 422);
  const body = (await over.json()) as { errors: Record<string, { key: string }[]> };
  assert.equal(body.errors.callback_url?.[0]?.key, 'errors.limit_reached');
  // Repeating an existing channel's request is not a new channel.
  const again = await post(h, account.accessToken, '/v1/channels', {
    callback_url: 'http://127.0.0.1:9/0',
  });
  assert.equal(again.status, 200);
});

test('requests over the per-account rate get 429 with Retry-After', async () => {
  h = await startHarness({ env: { CALPUSH_RATE_LIMIT: '5' } });
  const account = await createTestAccount(h.service);
  const statuses: number[] = [];
  let retryAfter: string | null = null;
  for (let i = 0; i < 12; i++) {
    const res = await h.service.app.request('/v1/channels', {
      headers: { authorization: `Bearer ${account.accessToken}` },
    });
    statuses.push(res.status);
    if (res.status === 429) {
      retryAfter = res.headers.get('retry-after');
      const body = (await res.json()) as { errors: Record<string, { key: string }[]> };
      assert.equal(body.errors.request?.[0]?.key, 'errors.rate_limited');
    }
  }
  assert.ok(statuses.includes(429));
  assert.ok(
    statuses.slice(0, 10).every((s) => s === 200),
    statuses.join(','),
  );
  assert.match(retryAfter ?? '', /^\d+$/);
});

test('unknown channel and another client’s channel', async () => {
  h = await startHarness();
  const a = await createTestAccount(h.service, 'a@example.com');
  const b = await createTestAccount(h.service, 'b@example.com');
  const created = await post(h, a.accessToken, '/v1/channels', {
    callback_url: 'http://127.0.0.1:9/a',
  });
  const { channel } = (await created.json()) as { channel: { channel_id: string } };
  const del = (token: string, id: string) =>
    h!.service.app.request(`/v1/channels/${id}`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: '{}',
    });
  assert.equal((await del(b.accessToken, channel.channel_id)).status, 403);
  assert.equal((await del(a.accessToken, 'chn_nope')).status, 404);
  assert.equal((await del(a.accessToken, channel.channel_id)).status, 202);
  assert.equal((await del(a.accessToken, channel.channel_id)).status, 404);
});

test('the Google face shares the per-account budget and answers 429 rateLimitExceeded', async () => {
  h = await startHarness({ env: { CALPUSH_RATE_LIMIT: '5' } });
  const account = await createTestAccount(h.service);
  let limited: Response | undefined;
  for (let i = 0; i < 12 && !limited; i++) {
    const res = await h.service.app.request('/calendar/v3/users/me/calendarList', {
      headers: { authorization: `Bearer ${account.accessToken}` },
    });
    if (res.status === 429) limited = res;
  }
  assert.ok(limited, 'the budget runs out');
  assert.match(limited.headers.get('retry-after') ?? '', /^\d+$/);
  const body = (await limited.json()) as { error: { code: number; errors: { reason: string }[] } };
  assert.equal(body.error.code, 429);
  assert.equal(body.error.errors[0]?.reason, 'rateLimitExceeded');
});
