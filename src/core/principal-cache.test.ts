import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PrincipalCache } from './principal-cache.ts';

const alice = { accountId: 'acc_a', clientId: 'cli_1', tokenHash: 'hash-a' };
const bob = { accountId: 'acc_b', clientId: 'cli_1', tokenHash: 'hash-b' };

test('a checked token is trusted until its time is up, then asked again', () => {
  const cache = new PrincipalCache({ ttlMs: 1000, maxEntries: 10 });
  cache.set('hash-a', alice, 5000);
  assert.deepEqual(cache.get('hash-a', 5999), alice);
  assert.equal(cache.get('hash-a', 6000), undefined);
  // Gone once expired: a later look does not bring it back.
  assert.equal(cache.get('hash-a', 5500), undefined);
});

test('a clock that steps back does not stretch an entry', () => {
  const cache = new PrincipalCache({ ttlMs: 1000, maxEntries: 10 });
  cache.set('hash-a', alice, 5000);
  assert.equal(cache.get('hash-a', 4000), undefined);
});

test('when full, the entry checked longest ago goes first', () => {
  const cache = new PrincipalCache({ ttlMs: 1000, maxEntries: 2 });
  cache.set('hash-a', alice, 1);
  cache.set('hash-b', bob, 2);
  cache.set('hash-a', alice, 3);
  cache.set('hash-c', bob, 4);
  assert.equal(cache.get('hash-b', 5), undefined);
  assert.deepEqual(cache.get('hash-a', 5), alice);
  assert.deepEqual(cache.get('hash-c', 5), bob);
});

test('storing a token again while full replaces it and evicts nothing else', () => {
  const cache = new PrincipalCache({ ttlMs: 1000, maxEntries: 2 });
  cache.set('hash-a', alice, 1);
  cache.set('hash-b', bob, 2);
  cache.set('hash-b', bob, 3);
  assert.deepEqual(cache.get('hash-a', 4), alice);
  assert.deepEqual(cache.get('hash-b', 4), bob);
});

test('a revoked token is forgotten, and a lookup that raced the revocation is not stored', () => {
  const cache = new PrincipalCache({ ttlMs: 1000, maxEntries: 10 });
  cache.set('hash-a', alice, 1);
  cache.set('hash-b', bob, 1);
  cache.forget('hash-a');
  assert.equal(cache.get('hash-a', 2), undefined);
  assert.deepEqual(cache.get('hash-b', 2), bob);
  cache.forgetAccount('acc_b');
  assert.equal(cache.get('hash-b', 2), undefined);
  // A lookup began, read the token in the store, and a revocation came before it stored it.
  const began = cache.revocations;
  cache.forget('hash-a');
  cache.set('hash-a', alice, 3, began);
  assert.equal(cache.get('hash-a', 4), undefined);
  cache.set('hash-a', alice, 3, cache.revocations);
  assert.deepEqual(cache.get('hash-a', 4), alice);
});
