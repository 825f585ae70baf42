import { test } from 'node:test';
import assert from 'node:assert/strict';
import { padToPowerOfTwo, powerOfTwoRuns } from './list-lengths.ts';

test('lists for IN are padded with their last item to a power-of-two length', () => {
  assert.deepEqual(padToPowerOfTwo([]), []);
  assert.deepEqual(padToPowerOfTwo(['a']), ['a']);
  assert.deepEqual(padToPowerOfTwo(['a', 'b', 'c']), ['a', 'b', 'c', 'c']);
  assert.deepEqual(padToPowerOfTwo([1, 2, 3, 4]), [1, 2, 3, 4]);
  const lengths = new Set(
    Array.from({ length: 256 }, (_, i) => padToPowerOfTwo(Array(i + 1).fill(0)).length),
  );
  assert.deepEqual([...lengths], [1, 2, 4, 8, 16, 32, 64, 128, 256]);
});

test('rows are cut into power-of-two runs, longest first, none over the cap', () => {
  const rows = Array.from({ length: 100 }, (_, i) => i);
  const runs = powerOfTwoRuns(rows, 128);
  assert.deepEqual(
    runs.map((r) => r.length),
    [64, 32, 4],
  );
  assert.deepEqual(runs.flat(), rows);
  assert.deepEqual(
    powerOfTwoRuns(Array(300).fill(0), 128).map((r) => r.length),
    [128, 128, 32, 8, 4],
  );
  assert.deepEqual(powerOfTwoRuns([], 128), []);
  assert.throws(() => powerOfTwoRuns(rows, 100), RangeError);
});
