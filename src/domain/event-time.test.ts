import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkEventTime, instantOf } from './event-time.ts';
import type { EventTime } from './event-time.ts';

test('a checked boundary carries the instant it stands for, the same as instantOf', () => {
  const cases: [EventTime, number][] = [
    [{ date: '2026-12-03' }, Date.UTC(2026, 11, 3)],
    [{ dateTime: '2026-07-01T09:00:00+02:00' }, Date.UTC(2026, 6, 1, 7)],
    // An offset in the value wins over the zone beside it.
    [{ dateTime: '2026-07-01T09:00:00Z', timeZone: 'Europe/Paris' }, Date.UTC(2026, 6, 1, 9)],
    [{ dateTime: '2026-07-01T09:00:00', timeZone: 'Europe/Paris' }, Date.UTC(2026, 6, 1, 7)],
    [{ dateTime: '2026-01-01T09:00', timeZone: 'America/New_York' }, Date.UTC(2026, 0, 1, 14)],
    // A bare date as a local time is its midnight in the zone.
    [{ dateTime: '2026-07-01', timeZone: 'Europe/Paris' }, Date.UTC(2026, 5, 30, 22)],
    // Years under 100 are themselves, as in a value with an offset (Date.UTC reads 1900 + y).
    [{ dateTime: '0050-01-01T09:00', timeZone: 'Etc/UTC' }, Date.parse('0050-01-01T09:00:00Z')],
    [{ dateTime: '0048-02-29T09:00', timeZone: 'Etc/GMT-1' }, Date.parse('0048-02-29T08:00:00Z')],
  ];
  for (const [time, instant] of cases) {
    assert.deepEqual(checkEventTime(time), { instant }, JSON.stringify(time));
    assert.equal(instantOf(time), instant, JSON.stringify(time));
  }
});

test('an unusable boundary says why', () => {
  const cases: [EventTime, RegExp][] = [
    [{ date: '2026-02-30' }, /must be a date/],
    [{ date: '2026-12-03T10:00:00Z' }, /must be a date/],
    [{ dateTime: '2026-07-01T09:00:00' }, /with an offset, or a local time with a time zone/],
    [{ dateTime: '2026-02-30T09:00:00Z' }, /with an offset/],
    [{ dateTime: 'tomorrow', timeZone: 'Europe/Paris' }, /with an offset/],
    // Local times that do not exist as written are refused, not rolled over.
    [{ dateTime: '2026-02-30T09:00', timeZone: 'Europe/Paris' }, /with an offset/],
    [{ dateTime: '2026-07-01T24:00', timeZone: 'Europe/Paris' }, /with an offset/],
    [{ dateTime: '2026-07-01T23:60', timeZone: 'Europe/Paris' }, /with an offset/],
    [{ dateTime: '2026-07-01T23:59:60', timeZone: 'Europe/Paris' }, /with an offset/],
    [{ dateTime: '2026-13-01', timeZone: 'Europe/Paris' }, /with an offset/],
    [{ dateTime: '2026-07-01T09:00:00', timeZone: 'Mars/Olympus' }, /unknown time zone Mars/],
  ];
  for (const [time, problem] of cases) {
    const checked = checkEventTime(time);
    assert.ok('problem' in checked, JSON.stringify(time));
    assert.match(checked.problem, problem, JSON.stringify(time));
  }
});
