import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isPublicAddress } from './address-policy.ts';

test('only globally routable unicast addresses are public', () => {
  for (const a of ['8.8.8.8', '1.1.1.1', '2606:4700:4700::1111']) assert.ok(isPublicAddress(a), a);
  for (const a of [
    '127.0.0.1',
    '10.1.2.3',
    '172.16.0.1',
    '192.168.1.1',
    '169.254.169.254',
    '100.64.0.1',
    '0.0.0.0',
    '224.0.0.1',
    '::1',
    'fe80::1',
    'fd00::1',
    '::ffff:127.0.0.1',
    '::7f00:1',
    '::127.0.0.1',
    'not an address',
  ]) {
    assert.ok(!isPublicAddress(a), a);
  }
});
