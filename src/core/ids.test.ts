import { test } from 'node:test';
import assert from 'node:assert/strict';
import { newEventUid } from './ids.ts';

test('event ids follow Google’s alphabet and length rules', () => {
  for (let i = 0; i < 1000; i++) {
    const uid = newEventUid(Date.UTC(2026, 10, 25) + i);
    assert.match(uid, /^[0-9a-v]{5,1024}$/);
    assert.equal(uid.length, 26);
  }
});

test('event ids sort by their creation time, so new ones land at the end of the index', () => {
  const times = [0, 1, 31, 32, 1_000, Date.UTC(2026, 0, 1), Date.UTC(2026, 0, 1) + 1, 2 ** 44];
  const uids = times.map((t) => newEventUid(t));
  assert.deepEqual([...uids].sort(), uids);
  // Past the 45 bits the prefix stays at its largest instead of wrapping to a small one.
  assert.ok(newEventUid(2 ** 45) > newEventUid(2 ** 45 - 2));
  assert.equal(newEventUid(2 ** 46).slice(0, 12), newEventUid(2 ** 45 - 1).slice(0, 12));
  assert.throws(() => newEventUid(Number.NaN), RangeError);
});

test('event ids made in the same millisecond differ', () => {
  const at = Date.UTC(2026, 10, 25);
  const uids = new Set(Array.from({ length: 10_000 }, () => newEventUid(at)));
  assert.equal(uids.size, 10_000);
});
