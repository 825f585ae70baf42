import { afterEach, beforeEach, mock, test } from 'node:test';
import assert from 'node:assert/strict';
import { DueTimer } from './due-timer.ts';

beforeEach(() => mock.timers.enable({ apis: ['setTimeout'] }));
afterEach(() => mock.timers.reset());

test('an earlier time re-arms it; a later one changes nothing', () => {
  let fired = 0;
  const timer = new DueTimer(() => fired++);
  timer.armIn(1000);
  timer.armIn(300);
  timer.armIn(5000);
  assert.equal(timer.armed, true);
  mock.timers.tick(299);
  assert.equal(fired, 0);
  mock.timers.tick(1);
  assert.equal(fired, 1);
  assert.equal(timer.armed, false);
  mock.timers.tick(10_000);
  assert.equal(fired, 1, 'the times it was re-armed from never fire');
});

test('a time already past fires on the next turn; clear() disarms', () => {
  let fired = 0;
  const timer = new DueTimer(() => fired++);
  timer.armIn(-50);
  mock.timers.tick(0);
  assert.equal(fired, 1);
  timer.armIn(100);
  timer.clear();
  assert.equal(timer.armed, false);
  mock.timers.tick(200);
  assert.equal(fired, 1);
});
