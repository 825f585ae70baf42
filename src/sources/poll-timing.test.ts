import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MAX_BACKOFF_MS, pollBackoffMs, withJitter } from './poll-timing.ts';

test('intervals are jittered by at most a tenth either way', () => {
  assert.equal(withJitter(60_000, 0), 54_000);
  assert.equal(withJitter(60_000, 0.5), 60_000);
  assert.ok(withJitter(60_000, 0.999999) <= 66_000);
});

test('failures double the wait up to an hour, never under the interval', () => {
  assert.equal(pollBackoffMs(60_000, 1, 0.5), 60_000);
  assert.equal(pollBackoffMs(60_000, 2, 0.5), 120_000);
  assert.equal(pollBackoffMs(60_000, 3, 0.5), 240_000);
  assert.equal(pollBackoffMs(60_000, 50, 0.5), MAX_BACKOFF_MS);
  // A feed polled every two hours is not polled more often because it fails.
  assert.equal(pollBackoffMs(2 * MAX_BACKOFF_MS, 5, 0.5), 2 * MAX_BACKOFF_MS);
});
