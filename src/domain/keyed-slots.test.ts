import { test } from 'node:test';
import assert from 'node:assert/strict';
import { KeyedSlots } from './keyed-slots.ts';

test('each key runs up to its bound, independently of the others', () => {
  const slots = new KeyedSlots<string>(2, 1000);
  assert.equal(slots.tryTake('a'), true);
  assert.equal(slots.tryTake('a'), true);
  assert.equal(slots.tryTake('a'), false);
  assert.equal(slots.tryTake('b'), true);
  assert.deepEqual(slots.saturated(), ['a']);
});

test('a freed slot goes to the oldest waiting item, which keeps the key at its bound', () => {
  const slots = new KeyedSlots<string>(1, 1000);
  assert.equal(slots.tryTake('a'), true);
  slots.wait('a', 'first', 0);
  slots.wait('a', 'second', 1);
  assert.equal(slots.waiting, 2);
  const stale: string[] = [];
  assert.equal(slots.release('a', 10, stale), 'first');
  assert.deepEqual(stale, []);
  assert.equal(slots.waiting, 1);
  assert.deepEqual(slots.saturated(), ['a']);
  assert.equal(slots.release('a', 20, stale), 'second');
  assert.equal(slots.waiting, 0);
  assert.equal(slots.release('a', 30, stale), undefined);
  assert.deepEqual(slots.saturated(), []);
  assert.equal(slots.tryTake('a'), true);
});

test('items that waited longer than the limit come back stale instead of starting', () => {
  const slots = new KeyedSlots<string>(1, 100);
  slots.tryTake('a');
  slots.wait('a', 'old', 0);
  slots.wait('a', 'at-the-limit', 50);
  slots.wait('a', 'fresh', 120);
  const stale: string[] = [];
  // At 150, anything that started waiting before 50 is stale; 50 itself is not.
  assert.equal(slots.release('a', 150, stale), 'at-the-limit');
  assert.deepEqual(stale, ['old']);
  assert.equal(slots.waiting, 1);
});

test('when every waiting item is stale, the slot is freed', () => {
  const slots = new KeyedSlots<string>(1, 100);
  slots.tryTake('a');
  slots.wait('a', 'x', 0);
  slots.wait('a', 'y', 10);
  const stale: string[] = [];
  assert.equal(slots.release('a', 500, stale), undefined);
  assert.deepEqual(stale, ['x', 'y']);
  assert.equal(slots.waiting, 0);
  assert.deepEqual(slots.saturated(), []);
  assert.equal(slots.tryTake('a'), true);
});

test('releasing a key that holds several slots frees one', () => {
  const slots = new KeyedSlots<string>(2, 100);
  slots.tryTake('a');
  slots.tryTake('a');
  assert.equal(slots.release('a', 0, []), undefined);
  assert.deepEqual(slots.saturated(), []);
  assert.equal(slots.tryTake('a'), true);
  assert.equal(slots.tryTake('a'), false);
});

test('dropped waiting items leave their queues and the count', () => {
  const slots = new KeyedSlots<string>(1, 1000);
  slots.tryTake('a');
  slots.tryTake('b');
  slots.wait('a', 'a1', 0);
  slots.wait('a', 'a2', 0);
  slots.wait('b', 'b1', 0);
  slots.dropWaiting((item) => item === 'a1' || item === 'b1');
  assert.equal(slots.waiting, 1);
  assert.equal(slots.release('b', 1, []), undefined);
  assert.equal(slots.release('a', 1, []), 'a2');
});
