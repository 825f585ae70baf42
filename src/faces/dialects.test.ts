import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cronofyHears } from './cronofy/interest.ts';
import { googleHears, watchedCalendarRemoved } from './google/interest.ts';
import { googleDialect } from './google/dialect.ts';

const event = (calendarId: string, managed = false) => ({
  resource: 'event' as const,
  calendarId,
  managed,
});

test('Cronofy channels hear event changes, narrowed by calendar_ids and only_managed', () => {
  const all = { dialect: 'cronofy' as const, calendarIds: null, onlyManaged: false };
  assert.ok(cronofyHears(all, event('a')));
  assert.ok(!cronofyHears(all, { resource: 'calendar', calendarId: 'a', managed: true }));
  const some = { ...all, calendarIds: ['a'] };
  assert.ok(cronofyHears(some, event('a')));
  assert.ok(!cronofyHears(some, event('b')));
  const managed = { ...all, onlyManaged: true };
  assert.ok(!cronofyHears(managed, event('a')));
  assert.ok(cronofyHears(managed, event('a', true)));
});

test('Google channels hear their watched resource only', () => {
  const events = { kind: 'events' as const, calendarId: 'a' };
  assert.ok(googleHears(events, event('a')));
  assert.ok(!googleHears(events, event('b')));
  const list = { kind: 'calendarList' as const, calendarId: null };
  assert.ok(googleHears(list, { resource: 'calendar', calendarId: 'x', managed: true }));
  assert.ok(!googleHears(list, event('a')));
  const acl = { kind: 'acl' as const, calendarId: 'a' };
  assert.ok(googleHears(acl, { resource: 'acl', calendarId: 'a', managed: false }));
  const settings = { kind: 'settings' as const, calendarId: null };
  assert.ok(googleHears(settings, { resource: 'settings', calendarId: null, managed: false }));
});

test('a deleted calendar is not_exists for its events and acl watchers, exists for the list', () => {
  const removed = { resource: 'calendar' as const, calendarId: 'a', managed: true, removed: true };
  const settings = { resourceId: 'r', resourceUri: 'u', dialect: 'google' as const };
  const plan = (kind: 'events' | 'acl' | 'calendarList', calendarId: string | null) =>
    googleDialect.planFor({ ...settings, resource: { kind, calendarId } }, removed)?.kind;
  assert.equal(plan('events', 'a'), 'not_exists');
  assert.equal(plan('acl', 'a'), 'not_exists');
  assert.equal(plan('events', 'b'), undefined);
  assert.equal(plan('calendarList', null), 'exists');
  assert.ok(
    !watchedCalendarRemoved({ kind: 'events', calendarId: 'a' }, { ...removed, removed: false }),
  );
});
