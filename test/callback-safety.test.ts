import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Harness, TestAccount } from './support/harness.ts';
import { createTestAccount, startHarness } from './support/harness.ts';
import { safeLookup } from '../src/net/safe-lookup.ts';
import { createLogger } from '../src/log.ts';

let h: Harness;
let account: TestAccount;
before(async () => {
  h = await startHarness({ config: { dev: false } });
  account = await createTestAccount(h.service);
});
after(() => h.close());

const create = (callback_url: string) =>
  h.service.app.request('/v1/channels', {
    method: 'POST',
    headers: { authorization: `Bearer ${account.accessToken}`, 'content-type': 'application/json' },
    body: JSON.stringify({ callback_url }),
  });

test('outside dev mode, private and loopback callbacks are refused when the channel is made', async () => {
  for (const url of [
    'http://127.0.0.1:9/x',
    'http://localhost/x',
    'http://[::1]/x',
    'http://169.254.169.254/latest',
    'http://10.0.0.1/x',
    'http://user:pw@example.com/x',
  ]) {
    const res = await create(url);
    assert.equal(res.status, 422, url);
    const body = (await res.json()) as { errors: Record<string, unknown> };
    assert.ok('callback_url' in body.errors, url);
  }
  assert.equal((await create('https://hooks.example.com/calpush')).status, 200);
});

test('at connect time a name that resolves to a private address is refused (DNS rebinding)', async () => {
  const err = await new Promise<Error | null>((resolve) =>
    safeLookup('localhost', {}, (e) => resolve(e)),
  );
  assert.match(String(err?.message), /non-public address/);
});

test('bodies are size-limited and malformed JSON is a 422, and nothing is created', async () => {
  const huge = await create(`https://example.com/${'x'.repeat(300 * 1024)}`);
  assert.equal(huge.status, 413);
  assert.equal(
    ((await huge.json()) as { errors: { request: { key: string }[] } }).errors.request[0]?.key,
    'errors.too_large',
  );
  // Declared as JSON: a string body without a type goes as text/plain, which is a 415.
  const res = await h.service.app.request('/v1/channels', {
    method: 'POST',
    headers: { authorization: `Bearer ${account.accessToken}`, 'content-type': 'application/json' },
    body: '{"callback_url":',
  });
  assert.equal(res.status, 422);
  const listed = await h.service.app.request('/v1/channels', {
    headers: { authorization: `Bearer ${account.accessToken}` },
  });
  assert.equal(((await listed.json()) as { channels: unknown[] }).channels.length, 1);
});

test('tokens and secrets are redacted from logs', () => {
  const lines: string[] = [];
  const logger = createLogger('info', { write: (line: string) => void lines.push(line) });
  logger.info(
    {
      access_token: 'tok_secret',
      client_secret: 'sec_secret',
      headers: { authorization: 'Bearer tok_x' },
      channel: { token: 'chan_token' },
    },
    'x',
  );
  const out = lines.join('');
  assert.match(out, /\[redacted\]/);
  for (const secret of ['tok_secret', 'sec_secret', 'tok_x', 'chan_token']) {
    assert.ok(!out.includes(secret), `${secret} leaked: ${out}`);
  }
});
