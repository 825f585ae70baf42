import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { formatLine, inspect } from './listen-check.ts';

const body = Buffer.from(
  JSON.stringify({
    notification: { type: 'change', changes_since: '2026-12-06T09:00:00Z' },
    channel: { channel_id: 'chn_1' },
  }),
);
const sign = (secret: string) => createHmac('sha256', secret).update(body).digest('base64');
const cronofy = { dialect: 'cronofy', secret: 'sec_new', token: '' } as const;
const at = Date.UTC(2026, 11, 6, 9, 0, 1, 500);

test('a Cronofy signature matches if any of the comma-separated values does', () => {
  const headers = { 'cronofy-hmac-sha256': `${sign('sec_old')},${sign('sec_new')}` };
  const seen = inspect(cronofy, { ...headers, 'calpush-notification-id': 'ntf_7' }, body, at);
  assert.deepEqual(seen, {
    kind: 'change',
    notificationId: 'ntf_7',
    channelId: 'chn_1',
    verdict: 'verified',
    ageMs: 1500,
  });
  assert.equal(
    formatLine(at, seen, '→ 200'),
    '2026-12-06T09:00:01.500Z  change          ntf_7         chn_1  age ≤1.5s  verified  → 200',
  );
});

test('a wrong, missing or malformed signature is a mismatch; no secret leaves it unchecked', () => {
  for (const header of [sign('other'), '', 'not base64!', `${sign('other')},`]) {
    const seen = inspect(cronofy, { 'cronofy-hmac-sha256': header }, body, at);
    assert.equal(seen.verdict, 'SIGNATURE MISMATCH');
  }
  const unchecked = inspect({ ...cronofy, secret: undefined }, {}, body, at);
  assert.equal(unchecked.verdict, 'unverified (no --secret)');
  const garbage = inspect(cronofy, {}, Buffer.from('not json'), at);
  assert.deepEqual([garbage.kind, garbage.channelId, garbage.ageMs], ['?', '-', null]);
});

test('a Google message is verified by the channel token it echoes', () => {
  const google = { dialect: 'google', secret: undefined, token: 'tok-set-by-listen' } as const;
  const headers = {
    'x-goog-channel-id': 'listen-1',
    'x-goog-resource-state': 'exists',
    'x-goog-channel-token': 'tok-set-by-listen',
  };
  assert.equal(inspect(google, headers, Buffer.alloc(0), at).verdict, 'verified');
  const forged = { ...headers, 'x-goog-channel-token': 'tok-set-by-listen-' };
  assert.equal(inspect(google, forged, Buffer.alloc(0), at).verdict, 'SIGNATURE MISMATCH');
});
