import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import type { Harness, TestAccount } from './support/harness.ts';
import { createTestAccount, startHarness, watchAccount } from './support/harness.ts';
import { Receiver } from './support/receiver.ts';
import { createLogger } from '../src/log.ts';

/** Every JSON line the service logs. */
const lines: Record<string, unknown>[] = [];
const sink = new Writable({
  write(chunk: Buffer, _encoding, done) {
    for (const line of chunk.toString('utf8').split('\n')) {
      if (line.trim()) lines.push(JSON.parse(line) as Record<string, unknown>);
    }
    done();
  },
});

let receiver: Receiver;
let h: Harness;
let account: TestAccount;

before(async () => {
  receiver = await Receiver.start();
  h = await startHarness({ logger: createLogger('debug', sink) });
  account = await createTestAccount(h.service);
});
after(async () => {
  await h.close();
  await receiver.close();
});

test('each API call has one request id, echoed back and in its log lines', async () => {
  const response = await h.service.app.request('/v1/channels', {
    headers: { authorization: `Bearer ${account.accessToken}`, 'x-request-id': 'req-abc-123' },
  });
  assert.equal(response.status, 200);
  assert.equal(response.headers.get('x-request-id'), 'req-abc-123');
  const logged = lines.filter((l) => l.msg === 'request' && l.path === '/v1/channels');
  assert.equal(logged.length, 1);
  assert.equal(logged[0]?.requestId, 'req-abc-123');

  const fresh = await h.service.app.request('/v1/channels', {
    headers: { authorization: `Bearer ${account.accessToken}` },
  });
  const id = fresh.headers.get('x-request-id');
  assert.ok(id && id !== 'req-abc-123', 'a call without one gets its own');
});

test('each delivery attempt is logged with its notification id', async () => {
  await watchAccount(h.service, account, `${receiver.url}/hook`);
  await h.service.dispatcher.runUntilIdle();
  const sent = String(receiver.requests[0]?.headers['calpush-notification-id']);
  const attempt = lines.find((l) => l.msg === 'delivery attempt');
  assert.equal(attempt?.notification, sent);
  assert.equal(attempt?.outcome, 'delivered');
  assert.equal(attempt?.requestId, undefined, 'delivery runs outside any request');
});
