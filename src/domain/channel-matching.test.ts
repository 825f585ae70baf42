import { test } from 'node:test';
import assert from 'node:assert/strict';
import { channelHears } from './channel-matching.ts';

const event = (calendarId: string, managed = false) => ({
  resource: 'event' as const,
  calendarId,
  managed,
});

test('Cronofy channels hear event changes, narrowed by calendar_ids and only_managed', () => {
  const all = { dialect: 'cronofy' as const, calendarIds: null, onlyManaged: false };
  assert.ok(channelHears(all, event('a')));
  assert.ok(!channelHears(all, { resource: 'calendar', calendarId: 'a', managed: true }));
  const some = { ...all, calendarIds: ['a'] };
  assert.ok(channelHears(some, event('a')));
  assert.ok(!channelHears(some, event('b')));
  const managed = { ...all, onlyManaged: true };
  assert.ok(!channelHears(managed, event('a')));
  assert.ok(channelHears(managed, event('a', true)));
});

test('Google channels hear their watched resource only', () => {
  const events = {
    dialect: 'google' as const,
    resource: { kind: 'events' as const, calendarId: 'a' },
  };
  assert.ok(channelHears(events, event('a')));
  assert.ok(!channelHears(events, event('b')));
  const list = {
    dialect: 'google' as const,
    resource: { kind: 'calendarList' as const, calendarId: null },
  };
  assert.ok(channelHears(list, { resource: 'calendar', calendarId: 'x', managed: true }));
  assert.ok(!channelHears(list, event('a')));
  const acl = { dialect: 'google' as const, resource: { kind: 'acl' as const, calendarId: 'a' } };
  assert.ok(channelHears(acl, { resource: 'acl', calendarId: 'a', managed: false }));
  const settings = {
    dialect: 'google' as const,
    resource: { kind: 'settings' as const, calendarId: null },
  };
  assert.ok(channelHears(settings, { resource: 'settings', calendarId: null, managed: false }));
});
