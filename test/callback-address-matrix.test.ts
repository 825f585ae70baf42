import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Harness, TestAccount } from './support/harness.ts';
import { createTestAccount, startHarness } from './support/harness.ts';
import { callApi } from './support/api.ts';

/**
 * Every form of address that could reach this machine or a private network, refused when a
 * channel or a source is made outside dev mode, on both faces. Names resolve through the
 * test resolver: /etc/hosts entries as the system would, nothing through DNS.
 */

const hosts = [
  // IPv4 loopback, private, link-local, CGNAT, multicast, unspecified, in every notation.
  '127.0.0.1',
  '127.1',
  '2130706433',
  '0x7f000001',
  '0177.0.0.1',
  '0.0.0.0',
  '10.1.2.3',
  '172.16.0.1',
  '192.168.0.1',
  '169.254.169.254',
  '100.64.0.1',
  '224.0.0.1',
  '255.255.255.255',
  // IPv6 loopback, unique-local, link-local, and IPv4 inside IPv6.
  '[::1]',
  '[0:0:0:0:0:0:0:1]',
  '[::]',
  '[fc00::1]',
  '[fe80::1]',
  '[::ffff:127.0.0.1]',
  '[::ffff:7f00:1]',
  '[::127.0.0.1]',
  '[64:ff9b::7f00:1]',
  '[2002:7f00:1::]',
  // Names for this machine: reserved ones, /etc/hosts entries, trailing dots, case.
  'localhost',
  'localhost.',
  'LOCALHOST',
  'api.localhost',
  'localhost.localdomain',
  'vm',
  'vm.',
  'runsc',
  // A name that does not resolve at all.
  'nothing-here.invalid',
  // Userinfo hiding the real host.
  'example.com@127.0.0.1',
];

const malformed = [
  'http:///x',
  'http:/example.com/x',
  'ftp://example.com/x',
  'file:///etc/passwd',
  'javascript:alert(1)',
  'https://user:pw@example.com/x',
  'https://example.com/x\r\nX-Injected: 1',
  'https://example.com/x y',
  'https://exa mple.com/x',
  'https://example.com/\tx',
  '\nhttps://example.com/x',
  'https://example.com/\u0000',
];

let h: Harness;
let account: TestAccount;
before(async () => {
  h = await startHarness({ config: { dev: false } });
  account = await createTestAccount(h.service);
});
after(() => h.close());

const cronofy = (callback_url: string) =>
  callApi<{ errors?: Record<string, unknown> }>(
    h.service,
    account.accessToken,
    'POST',
    '/v1/channels',
    {
      callback_url,
    },
  );

const google = (address: string) =>
  callApi<{ error?: { errors: { reason: string; location?: string }[] } }>(
    h.service,
    account.accessToken,
    'POST',
    `/calendar/v3/calendars/${account.calendarId}/events/watch`,
    { id: `w${Math.random().toString(36).slice(2)}`, type: 'web_hook', address },
  );

async function liveChannels(): Promise<number> {
  const rows = await h.service.store.db
    .selectFrom('channels')
    .select('id')
    .where('state', '=', 'active')
    .execute();
  return rows.length;
}

test('the Cronofy face refuses every private, local or malformed callback when it is made', async () => {
  const urls = [
    ...hosts.flatMap((host) => [`http://${host}/x`, `https://${host}:8443/x`]),
    ...malformed,
  ];
  for (const url of urls) {
    const res = await cronofy(url);
    assert.equal(res.status, 422, JSON.stringify(url));
    assert.ok(res.json.errors && 'callback_url' in res.json.errors, JSON.stringify(url));
  }
  assert.equal(await liveChannels(), 0);
  assert.equal((await cronofy('https://hooks.example.com/calpush')).status, 200);
});

test('the Google face refuses them too, as push.webhookUrlUnauthorized on the address', async () => {
  const before = await liveChannels();
  const urls = [...hosts.map((host) => `https://${host}/x`), ...malformed];
  for (const url of urls) {
    const res = await google(url);
    assert.equal(res.status, 400, JSON.stringify(url));
    // A NUL is refused with the body, before the address is read at all.
    const reason = url.includes('\u0000') ? 'invalid' : 'push.webhookUrlUnauthorized';
    assert.equal(res.json.error?.errors[0]?.reason, reason, JSON.stringify(url));
  }
  assert.equal(await liveChannels(), before);
  assert.equal((await google('https://hooks.example.com/google')).status, 200);
});

test('source URLs are held to the same rule: nothing is created for a private or local one', async () => {
  const urls = [
    ...hosts.map((host) => `http://${host}/calendar.ics`),
    'http://localhost./feed.ics',
    'https://example.com/feed.ics\r\nX: 1',
  ];
  for (const url of urls) {
    const res = await callApi<{ errors?: Record<string, unknown> }>(
      h.service,
      account.accessToken,
      'POST',
      '/v1/sources',
      { provider: 'ics', url },
    );
    assert.ok(res.status >= 400 && res.status < 500, `${JSON.stringify(url)}: ${res.status}`);
  }
  const sources = await h.service.store.db.selectFrom('sources').select('id').execute();
  assert.equal(sources.length, 0);
});
