import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Harness, TestAccount } from './support/harness.ts';
import { createTestAccount, startHarness } from './support/harness.ts';
import { Agent, fetch as undiciFetch } from 'undici';

// Over a real socket, as clients reach `calpush serve`: body limits by declared length and by
// streamed (chunked) length, and unmatched paths answered in each face's own error format.
let h: Harness;
let account: TestAccount;

before(async () => {
  h = await startHarness({ listen: true });
  account = await createTestAccount(h.service);
});
after(() => h.close());

const auth = () => ({ authorization: `Bearer ${account.accessToken}` });
const oversized = () =>
  JSON.stringify({ callback_url: `https://example.com/${'x'.repeat(300_000)}` });

/**
 * One connection for one request: a server that answers before reading a whole oversized body
 * closes the connection after it, and a pooled client could pick that dying socket next.
 */
async function once(url: string, init: RequestInit): Promise<{ status: number; json: unknown }> {
  const dispatcher = new Agent();
  try {
    const res = await undiciFetch(url, { ...init, dispatcher } as Parameters<
      typeof undiciFetch
    >[1]);
    return { status: res.status, json: await res.json() };
  } finally {
    await dispatcher.close();
  }
}

async function channelCount(): Promise<number> {
  const res = await fetch(`${h.url}/v1/channels`, { headers: auth() });
  return ((await res.json()) as { channels: unknown[] }).channels.length;
}

test('a body over the limit is a 413 in the face format, whether its length is declared or streamed', async () => {
  const declared = await once(`${h.url}/v1/channels`, {
    method: 'POST',
    headers: { ...auth(), 'content-type': 'application/json' },
    body: oversized(),
  });
  assert.equal(declared.status, 413);
  assert.equal(
    (declared.json as { errors: { request: { key: string }[] } }).errors.request[0]?.key,
    'errors.too_large',
  );

  const bytes = new TextEncoder().encode(oversized());
  const streamed = await once(`${h.url}/calendar/v3/channels/stop`, {
    method: 'POST',
    headers: { ...auth(), 'content-type': 'application/json' },
    body: new ReadableStream({
      start(controller) {
        // Several chunks and no content-length: sent with chunked transfer encoding.
        for (let i = 0; i < bytes.length; i += 64 * 1024) {
          controller.enqueue(bytes.subarray(i, i + 64 * 1024));
        }
        controller.close();
      },
    }),
    duplex: 'half',
  });
  assert.equal(streamed.status, 413);
  const google = streamed.json as { error: { code: number; errors: { reason: string }[] } };
  assert.equal(google.error.code, 413);
  assert.equal(google.error.errors[0]?.reason, 'requestTooLarge');
  assert.equal(await channelCount(), 0);
});

test('a body over the limit outside both faces is a 413 in the root format, at a bare prefix in the face format', async () => {
  const outside = await once(`${h.url}/healthz`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: oversized(),
  });
  assert.equal(outside.status, 413);
  assert.deepEqual(Object.keys((outside.json as { error: object }).error), ['code', 'message']);
  const bare = await once(`${h.url}/calendar/v3`, {
    method: 'POST',
    headers: { ...auth(), 'content-type': 'application/json' },
    body: oversized(),
  });
  assert.equal(bare.status, 413);
  const google = bare.json as { error: { errors: { reason: string }[] } };
  assert.equal(google.error.errors[0]?.reason, 'requestTooLarge');
});

test('a body within the limit is read whole, declared or streamed', async () => {
  const body = JSON.stringify({ callback_url: 'https://example.com/hook' });
  const declared = await fetch(`${h.url}/v1/channels`, {
    method: 'POST',
    headers: { ...auth(), 'content-type': 'application/json' },
    body,
  });
  assert.equal(declared.status, 200);
  const bytes = new TextEncoder().encode(JSON.stringify({ callback_url: 'https://example.com/b' }));
  const streamed = await fetch(`${h.url}/v1/channels`, {
    method: 'POST',
    headers: { ...auth(), 'content-type': 'application/json' },
    body: new ReadableStream({
      start(controller) {
        controller.enqueue(bytes.subarray(0, 10));
        controller.enqueue(bytes.subarray(10));
        controller.close();
      },
    }),
    duplex: 'half',
  });
  assert.equal(streamed.status, 200);
  assert.equal(await channelCount(), 2);
});

test('an unmatched path is a 404 in the format of the face it falls under', async () => {
  const cronofy = await fetch(`${h.url}/v1/no-such-thing`, { headers: auth() });
  assert.equal(cronofy.status, 404);
  assert.deepEqual(await cronofy.json(), {
    errors: { request: [{ key: 'errors.not_found', description: 'no such endpoint' }] },
  });

  const google = await fetch(`${h.url}/calendar/v3/no/such/thing`, { headers: auth() });
  assert.equal(google.status, 404);
  const body = (await google.json()) as { error: { code: number; errors: { reason: string }[] } };
  assert.equal(body.error.code, 404);
  assert.equal(body.error.errors[0]?.reason, 'notFound');

  const elsewhere = await fetch(`${h.url}/nowhere`);
  assert.equal(elsewhere.status, 404);
  assert.deepEqual(await elsewhere.json(), { error: { code: 404, message: 'not found' } });

  // The bare prefix belongs to its face too.
  const bareCronofy = await fetch(`${h.url}/v1`, { headers: auth() });
  assert.equal(bareCronofy.status, 404);
  assert.ok('errors' in ((await bareCronofy.json()) as object));
  const bareGoogle = await fetch(`${h.url}/calendar/v3`, { headers: auth() });
  assert.equal(bareGoogle.status, 404);
  assert.equal(((await bareGoogle.json()) as { error: { code: number } }).error.code, 404);

  // Without credentials the face still answers first with its own 401.
  const anonymous = await fetch(`${h.url}/v1/no-such-thing`);
  assert.equal(anonymous.status, 401);
});

test('a request to an unknown path is counted once against the rate limit', async () => {
  const limited = await startHarness({ listen: true, env: { CALPUSH_RATE_LIMIT: '1' } });
  try {
    const acc = await createTestAccount(limited.service);
    const get = async (path: string) =>
      (
        await fetch(`${limited.url}${path}`, {
          headers: { authorization: `Bearer ${acc.accessToken}` },
        })
      ).status;
    // A budget of one request a second with a burst of two: the third in a row is refused.
    assert.deepEqual(
      [await get('/v1/nope'), await get('/v1/nope'), await get('/v1/nope')],
      [404, 404, 429],
    );
  } finally {
    await limited.close();
  }
});
