import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isRemoval, itemOf, readGoogleEvent, remoteCalendarOf } from './google-events.ts';

function event(json: Record<string, unknown>) {
  const read = readGoogleEvent({ id: 'e1', etag: '"7"', ...json });
  assert.ok(read);
  return read;
}

test('a timed event keeps its zone, and its etag is the version', () => {
  const item = itemOf(
    event({
      iCalUID: 'u1@google.com',
      summary: 'Stand-up',
      start: { dateTime: '2026-12-07T10:00:00+01:00', timeZone: 'Europe/Paris' },
      end: { dateTime: '2026-12-07T10:15:00+01:00', timeZone: 'Europe/Paris' },
      recurrence: ['RRULE:FREQ=DAILY;COUNT=5', 'EXDATE;TZID=Europe/Paris:20261209T100000'],
    }),
  );
  assert.equal(item.key, 'e1');
  assert.equal(item.version, '"7"');
  assert.deepEqual(item.events[0], {
    icalUid: 'u1@google.com',
    recurrenceId: null,
    summary: 'Stand-up',
    description: null,
    location: null,
    start: { dateTime: '2026-12-07T10:00:00+01:00', timeZone: 'Europe/Paris' },
    end: { dateTime: '2026-12-07T10:15:00+01:00', timeZone: 'Europe/Paris' },
    status: 'confirmed',
    recurrence: ['RRULE:FREQ=DAILY;COUNT=5', 'EXDATE;TZID=Europe/Paris:20261209T100000'],
  });
});

test('an all-day event is dates; without an etag, updated is the version', () => {
  const read = readGoogleEvent({
    id: 'e2',
    updated: '2026-12-01T00:00:00.000Z',
    start: { date: '2026-12-24' },
    end: { date: '2026-12-26' },
    status: 'tentative',
  });
  assert.ok(read);
  const item = itemOf(read);
  assert.equal(item.version, '2026-12-01T00:00:00.000Z');
  assert.deepEqual(item.events[0]?.start, { date: '2026-12-24' });
  assert.equal(item.events[0]?.icalUid, 'e2');
  assert.equal(item.events[0]?.status, 'tentative');
});

test('an override replaces its original start; a cancelled one has only that', () => {
  const moved = itemOf(
    event({
      iCalUID: 'u1@google.com',
      recurringEventId: 's1',
      originalStartTime: { dateTime: '2026-12-14T10:00:00+01:00', timeZone: 'Europe/Paris' },
      start: { dateTime: '2026-12-15T14:00:00+01:00' },
      end: { dateTime: '2026-12-15T14:30:00+01:00' },
      recurrence: ['RRULE:FREQ=DAILY'],
    }),
  );
  assert.deepEqual(moved.events[0]?.recurrenceId, {
    dateTime: '2026-12-14T10:00:00+01:00',
    timeZone: 'Europe/Paris',
  });
  assert.equal(moved.events[0]?.recurrence, null);
  const cancelled = event({
    iCalUID: 'u1@google.com',
    status: 'cancelled',
    recurringEventId: 's1',
    originalStartTime: { date: '2026-12-21' },
  });
  assert.equal(isRemoval(cancelled), false);
  assert.deepEqual(itemOf(cancelled).events[0]?.start, { date: '2026-12-21' });
  assert.equal(itemOf(cancelled).events[0]?.status, 'cancelled');
  // Without its series' UID an override would stand alone: it holds no event.
  const orphan = event({ status: 'cancelled', recurringEventId: 's1', originalStartTime: {} });
  assert.deepEqual(itemOf(orphan).events, []);
});

test('a cancelled single event is a removal; an unreadable one holds no event', () => {
  assert.equal(isRemoval(event({ status: 'cancelled' })), true);
  assert.deepEqual(itemOf(event({ start: { dateTime: 'soon' }, end: {} })).events, []);
  assert.deepEqual(
    itemOf(event({ start: { dateTime: '2026-12-07T10:00:00', timeZone: 'Mars/Olympus' } })).events,
    [],
  );
  assert.equal(readGoogleEvent({ summary: 'no id' }), null);
});

test('calendar list entries: the name the user gave first, deleted ones skipped', () => {
  assert.deepEqual(
    remoteCalendarOf({
      id: 'team@group.calendar.google.com',
      summary: 'Team',
      summaryOverride: 'My team',
      backgroundColor: '#9fe1e7',
      timeZone: 'Europe/Paris',
    }),
    {
      remoteId: 'team@group.calendar.google.com',
      name: 'My team',
      color: '#9fe1e7',
      timeZone: 'Europe/Paris',
    },
  );
  assert.equal(remoteCalendarOf({ id: 'x', deleted: true }), null);
});
