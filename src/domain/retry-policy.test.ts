import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  backoffDelay,
  decideAfterFailure,
  defaultRetryPolicy,
  parseRetryAfter,
} from './retry-policy.ts';

const p = defaultRetryPolicy;
const HOUR = 3_600_000;

test('backoff doubles with equal jitter and is capped', () => {
  assert.equal(backoffDelay(p, 1, 0), 5_000);
  assert.equal(backoffDelay(p, 1, 1), 10_000);
  assert.equal(backoffDelay(p, 2, 0), 10_000);
  assert.equal(backoffDelay(p, 50, 0.999), Math.round(HOUR / 2 + (HOUR / 2) * 0.999));
});

test('a streak older than the window closes the channel', () => {
  const d = decideAfterFailure(p, { now: 24 * HOUR, failingSince: 0, attempts: 30, random: 0 });
  assert.equal(d.kind, 'close');
});

test('the last retry lands on the deadline', () => {
  const d = decideAfterFailure(p, {
    now: 24 * HOUR - 1000,
    failingSince: 0,
    attempts: 30,
    random: 0.5,
  });
  assert.deepEqual(d, { kind: 'retry', at: 24 * HOUR });
});

test('Retry-After lengthens the delay up to the cap, never shortens it', () => {
  const longer = decideAfterFailure(p, {
    now: 0,
    failingSince: 0,
    attempts: 1,
    retryAfterMs: 120_000,
    random: 0,
  });
  assert.deepEqual(longer, { kind: 'retry', at: 120_000 });
  const shorter = decideAfterFailure(p, {
    now: 0,
    failingSince: 0,
    attempts: 1,
    retryAfterMs: 1,
    random: 0,
  });
  assert.deepEqual(shorter, { kind: 'retry', at: 5_000 });
  const huge = decideAfterFailure(p, {
    now: 0,
    failingSince: 0,
    attempts: 1,
    retryAfterMs: 10 * HOUR,
    random: 0,
  });
  assert.deepEqual(huge, { kind: 'retry', at: HOUR });
});

test('Retry-After parses seconds and HTTP dates', () => {
  assert.equal(parseRetryAfter('30', 0), 30_000);
  assert.equal(parseRetryAfter('Thu, 01 Jan 1970 00:01:00 GMT', 0), 60_000);
  assert.equal(parseRetryAfter('soon', 0), undefined);
  assert.equal(parseRetryAfter(undefined, 0), undefined);
});
