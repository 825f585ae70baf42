import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import type { Socket } from 'node:net';
import { Agent, fetch as undiciFetch } from 'undici';
import type { Harness, TestAccount } from './support/harness.ts';
import { createTestAccount, startHarness } from './support/harness.ts';

// Connections on a real socket (issue 23, item 5): a body that never finishes arriving, too
// many connections, the connection after a 413, and bodies that are not JSON.

const REQUEST_TIMEOUT_MS = 300;
let h: Harness;
let account: TestAccount;

before(async () => {
  h = await startHarness({
    listen: true,
    env: { CALPUSH_REQUEST_TIMEOUT_MS: String(REQUEST_TIMEOUT_MS), CALPUSH_MAX_CONNECTIONS: '4' },
  });
  account = await createTestAccount(h.service);
});
after(() => h.close());

const auth = () => ({ authorization: `Bearer ${account.accessToken}` });

function open(): Promise<Socket> {
  const { port } = new URL(h.url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), '127.0.0.1', () => resolve(socket));
    socket.once('error', reject);
  });
}

/** Everything the server sends until it closes the connection. */
function untilClosed(socket: Socket): Promise<string> {
  return new Promise((resolve) => {
    let text = '';
    socket.on('data', (chunk: Buffer) => (text += chunk.toString()));
    socket.on('error', () => undefined);
    socket.on('close', () => resolve(text));
  });
}

async function channelCount(): Promise<number> {
  const res = await fetch(`${h.url}/v1/channels`, { headers: auth() });
  return ((await res.json()) as { channels: unknown[] }).channels.length;
}

test('a body that stops arriving is answered 408 in the face format, and the connection closed', async () => {
  for (const [path, check] of [
    [
      '/v1/channels',
      (body: unknown) =>
        assert.ok((body as { errors: { request: unknown[] } }).errors.request.length > 0),
    ],
    [
      '/calendar/v3/channels/stop',
      (body: unknown) => assert.equal((body as { error: { code: number } }).error.code, 408),
    ],
  ] as const) {
    const socket = await open();
    const closed = untilClosed(socket);
    const started = Date.now();
    socket.write(
      `POST ${path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${account.accessToken}\r\n` +
        'Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{"callback_url":',
    );
    const answer = await closed;
    assert.ok(Date.now() - started < 10 * REQUEST_TIMEOUT_MS, 'closed soon after the timeout');
    assert.match(answer, /^HTTP\/1\.1 408 /);
    assert.match(answer, /\r\nconnection: close\r\n/i);
    check(JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4)) as unknown);
  }
  assert.equal(await channelCount(), 0);
});

test('connections over the cap are refused as they arrive; the others are served', async () => {
  const held = await Promise.all([open(), open(), open(), open()]);
  const refused = await open();
  const answer = await untilClosed(refused);
  assert.equal(answer, '');
  held[0]?.destroy();
  // The server counts the freed connection once it has seen it close: wait for that.
  let served = false;
  for (let i = 0; i < 50 && !served; i++) {
    const socket = await open();
    const reply = untilClosed(socket);
    socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    served = /^HTTP\/1\.1 200 /.test(await reply);
  }
  assert.ok(served);
  for (const socket of held) socket.destroy();
});

test('after a 413 the connection says close, so a pooled client does not reuse it', async () => {
  const agent = new Agent({ connections: 1 });
  try {
    const big = JSON.stringify({ callback_url: `https://example.com/${'x'.repeat(300_000)}` });
    const bytes = new TextEncoder().encode(big);
    for (const streamed of [false, true]) {
      const res = await undiciFetch(`${h.url}/v1/channels`, {
        method: 'POST',
        headers: { ...auth(), 'content-type': 'application/json' },
        body: streamed
          ? new ReadableStream({
              start(controller) {
                for (let i = 0; i < bytes.length; i += 64 * 1024) {
                  controller.enqueue(bytes.subarray(i, i + 64 * 1024));
                }
                controller.close();
              },
            })
          : big,
        duplex: 'half',
        dispatcher: agent,
      });
      assert.equal(res.status, 413);
      assert.equal(res.headers.get('connection'), 'close');
      await res.arrayBuffer();
      // The next request on the same pool gets a fresh connection, not the closing one.
      const next = await undiciFetch(`${h.url}/v1/channels`, {
        headers: auth(),
        dispatcher: agent,
      });
      assert.equal(next.status, 200);
      await next.arrayBuffer();
    }
  } finally {
    await agent.close();
  }
});

test('a body declared as something other than JSON is a 415 in the face format', async () => {
  const body = JSON.stringify({ callback_url: 'https://example.com/hook' });
  for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'application/xml', '']) {
    const cronofy = await fetch(`${h.url}/v1/channels`, {
      method: 'POST',
      headers: { ...auth(), 'content-type': type },
      body,
    });
    assert.equal(cronofy.status, 415, type);
    const errors = (await cronofy.json()) as { errors: { request: { key: string }[] } };
    assert.equal(errors.errors.request[0]?.key, 'errors.unsupported_media_type');

    const google = await fetch(`${h.url}/calendar/v3/calendars/primary/events`, {
      method: 'POST',
      headers: { ...auth(), 'content-type': type },
      body: JSON.stringify({
        start: { dateTime: '2026-12-10T09:00:00Z' },
        end: { dateTime: '2026-12-10T10:00:00Z' },
      }),
    });
    assert.equal(google.status, 415, type);
    const error = (await google.json()) as {
      error: { code: number; errors: { reason: string }[] };
    };
    assert.equal(error.error.code, 415);
    assert.equal(error.error.errors[0]?.reason, 'badContent');
  }
  assert.equal(await channelCount(), 0);

  // JSON in any of its spellings is read, as is a body sent without a type at all.
  for (const type of ['application/json; charset=utf-8', 'Application/JSON', undefined]) {
    const res = await undiciFetch(`${h.url}/v1/channels`, {
      method: 'POST',
      headers: { ...auth(), ...(type ? { 'content-type': type } : {}) },
      body: Buffer.from(
        JSON.stringify({ callback_url: `https://example.com/${encodeURIComponent(String(type))}` }),
      ),
    });
    assert.equal(res.status, 200, String(type));
  }
  // No body, any type: nothing to misread (SDKs send DELETE so).
  const { channels } = (await (
    await fetch(`${h.url}/v1/channels`, { headers: auth() })
  ).json()) as { channels: { channel_id: string }[] };
  const removed = await fetch(`${h.url}/v1/channels/${channels[0]?.channel_id}`, {
    method: 'DELETE',
    headers: { ...auth(), 'content-type': 'text/plain' },
  });
  assert.equal(removed.status, 202);
});
