import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MAX_INTERESTS, parseStoredInterest } from './stored-interest.ts';

test('one parsed interest per stored text, frozen all the way down', () => {
  const text = JSON.stringify({ dialect: 'cronofy', calendarIds: ['cal_a'], onlyManaged: false });
  const first = parseStoredInterest(text);
  assert.equal(parseStoredInterest(text), first);
  assert.deepEqual(first, { dialect: 'cronofy', calendarIds: ['cal_a'], onlyManaged: false });
  assert.ok(Object.isFrozen(first));
  assert.ok(first.dialect === 'cronofy' && Object.isFrozen(first.calendarIds));
  // Shared by every caller: a change through one of them would reach them all.
  assert.throws(() => first.calendarIds.push('cal_b'), TypeError);
});

/** Settings of a dialect that watches one resource, as this test stores them. */
interface WatchSettings {
  readonly dialect: string;
  readonly resource: { readonly kind: string; readonly calendarId: string };
}

test('different texts stay apart', () => {
  const events = parseStoredInterest(
    JSON.stringify({ dialect: 'google', resource: { kind: 'events', calendarId: 'cal_a' } }),
  ) as WatchSettings;
  const acl = parseStoredInterest(
    JSON.stringify({ dialect: 'google', resource: { kind: 'acl', calendarId: 'cal_a' } }),
  );
  assert.notEqual(events, acl);
  assert.ok(events.dialect === 'google' && events.resource.kind === 'events');
  assert.ok(Object.isFrozen(events.dialect === 'google' ? events.resource : null));
});

test('the cache is bounded: past its size it starts over', () => {
  const text = (i: number) =>
    JSON.stringify({ dialect: 'google', resource: { kind: 'events', calendarId: `cal_${i}` } });
  const first = parseStoredInterest(text(0));
  for (let i = 1; i <= MAX_INTERESTS; i++) parseStoredInterest(text(i));
  const again = parseStoredInterest(text(0));
  assert.notEqual(again, first);
  assert.deepEqual(again, first);
});
