import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseStoredInterest } from './stored-interest.ts';

test('one parsed interest per stored text, frozen all the way down', () => {
  const text = JSON.stringify({ dialect: 'cronofy', calendarIds: ['cal_a'], onlyManaged: false });
  const first = parseStoredInterest(text);
  assert.equal(parseStoredInterest(text), first);
  assert.deepEqual(first, { dialect: 'cronofy', calendarIds: ['cal_a'], onlyManaged: false });
  assert.ok(Object.isFrozen(first));
  assert.ok(first.dialect === 'cronofy' && Object.isFrozen(first.calendarIds));
  // Shared by every caller: a change through one of them would reach them all.
  assert.throws(() => (first.calendarIds as string[]).push('cal_b'), TypeError);
});

test('different texts stay apart', () => {
  const events = parseStoredInterest(
    JSON.stringify({ dialect: 'google', resource: { kind: 'events', calendarId: 'cal_a' } }),
  );
  const acl = parseStoredInterest(
    JSON.stringify({ dialect: 'google', resource: { kind: 'acl', calendarId: 'cal_a' } }),
  );
  assert.notEqual(events, acl);
  assert.ok(events.dialect === 'google' && events.resource.kind === 'events');
  assert.ok(Object.isFrozen(events.dialect === 'google' ? events.resource : null));
});
