import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PrincipalCache } from './principal-cache.ts';

const alice = { accountId: 'acc_a', clientId: 'cli_1', tokenHash: 'hash-a' };
const bob = { accountId: 'acc_b', clientId: 'cli_1', tokenHash: 'hash-b' };

/** A cache over a revocation count the test moves, and how often it was read. */
function cacheOver(ttlMs = 1000, maxEntries = 10) {
  const store = { count: 0, reads: 0 };
  const cache = new PrincipalCache({
    ttlMs,
    maxEntries,
    revocationCount: () => {
      store.reads++;
      return Promise.resolve(store.count);
    },
  });
  return { cache, store };
}

test('entries stand while the revocation count stays put, read about once per ttl', async () => {
  const { cache, store } = cacheOver();
  assert.equal(await cache.get('hash-a', 5000), undefined);
  cache.set('hash-a', alice, cache.generation);
  assert.deepEqual(await cache.get('hash-a', 5499), alice);
  assert.equal(store.reads, 1);
  // Long past the ttl, the count is read again; unchanged, the entry still stands.
  assert.deepEqual(await cache.get('hash-a', 65_000), alice);
  assert.deepEqual(await cache.get('hash-a', 65_400), alice);
  assert.equal(store.reads, 2);
});

test('from half the ttl a reading starts ahead, and nobody waits for it', async () => {
  let answer: ((count: number) => void) | undefined;
  let reads = 0;
  const cache = new PrincipalCache({
    ttlMs: 1000,
    maxEntries: 10,
    revocationCount: () => {
      reads++;
      return reads === 1 ? Promise.resolve(0) : new Promise((resolve) => (answer = resolve));
    },
  });
  await cache.get('hash-a', 0);
  cache.set('hash-a', alice, cache.generation);
  assert.deepEqual(await cache.get('hash-a', 500), alice, 'answered with the reading pending');
  assert.deepEqual(await cache.get('hash-a', 900), alice);
  assert.equal(reads, 2, 'one reading ahead, shared');
  answer!(1);
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(await cache.get('hash-a', 901), undefined, 'the count moved: entries dropped');
});

test('a reading that fails is tried again, and only a caller that had to wait sees it', async () => {
  let failing = true;
  const cache = new PrincipalCache({
    ttlMs: 1000,
    maxEntries: 10,
    revocationCount: () =>
      failing ? Promise.reject(new Error('store unavailable')) : Promise.resolve(0),
  });
  await assert.rejects(cache.get('hash-a', 0), /store unavailable/);
  failing = false;
  assert.equal(await cache.get('hash-a', 1), undefined);
  cache.set('hash-a', alice, cache.generation);
  failing = true;
  assert.deepEqual(await cache.get('hash-a', 600), alice, 'a failed reading ahead is no error');
  await assert.rejects(cache.get('hash-a', 1001), /store unavailable/);
});

test('a deletion anywhere drops every entry at the next reading, within the ttl', async () => {
  const { cache, store } = cacheOver();
  await cache.get('hash-a', 5000);
  cache.set('hash-a', alice, cache.generation);
  cache.set('hash-b', bob, cache.generation);
  store.count = 1;
  assert.deepEqual(await cache.get('hash-a', 5499), alice, 'trusted until a reading');
  assert.equal(await cache.get('hash-a', 6000), undefined);
  assert.equal(await cache.get('hash-b', 6000), undefined);
});

test('a lookup that raced a deletion does not store what it read', async () => {
  const { cache, store } = cacheOver();
  await cache.get('hash-a', 0);
  const began = cache.generation;
  store.count = 1;
  await cache.get('hash-b', 1000);
  cache.set('hash-a', alice, began);
  assert.equal(await cache.get('hash-a', 1001), undefined);
  cache.set('hash-a', alice, cache.generation);
  assert.deepEqual(await cache.get('hash-a', 1002), alice);
});

test('callers at once share one reading of the count', async () => {
  const { cache, store } = cacheOver();
  await Promise.all([cache.get('hash-a', 0), cache.get('hash-b', 0), cache.get('hash-c', 0)]);
  assert.equal(store.reads, 1);
});

test('a clock that steps back reads the count again', async () => {
  const { cache, store } = cacheOver();
  await cache.get('hash-a', 5000);
  cache.set('hash-a', alice, cache.generation);
  store.count = 1;
  assert.equal(await cache.get('hash-a', 4000), undefined);
});

test('when full, the entry used longest ago goes first', async () => {
  const { cache } = cacheOver(1000, 2);
  await cache.get('hash-a', 0);
  cache.set('hash-a', alice, cache.generation);
  cache.set('hash-b', bob, cache.generation);
  assert.deepEqual(await cache.get('hash-a', 1), alice);
  cache.set('hash-c', bob, cache.generation);
  assert.equal(await cache.get('hash-b', 2), undefined);
  assert.deepEqual(await cache.get('hash-a', 2), alice);
  assert.deepEqual(await cache.get('hash-c', 2), bob);
});

test('a token revoked here is forgotten at once, and a lookup that raced it is not stored', async () => {
  const { cache } = cacheOver();
  await cache.get('hash-a', 0);
  cache.set('hash-a', alice, cache.generation);
  cache.set('hash-b', bob, cache.generation);
  cache.forget('hash-a');
  assert.equal(await cache.get('hash-a', 1), undefined);
  assert.deepEqual(await cache.get('hash-b', 1), bob);
  cache.forgetAccount('acc_b');
  assert.equal(await cache.get('hash-b', 1), undefined);
  const began = cache.generation;
  cache.forget('hash-a');
  cache.set('hash-a', alice, began);
  assert.equal(await cache.get('hash-a', 2), undefined);
});
