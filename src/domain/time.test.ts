import { test } from 'node:test';
import assert from 'node:assert/strict';
import { addDays, dateInZone, formatUtc, isDateOnly, isZonedDateTime, zonedToUtc } from './time.ts';

test('wall-clock times convert to UTC across DST', () => {
  assert.equal(zonedToUtc('2026-07-01T09:00:00', 'Europe/Paris'), Date.UTC(2026, 6, 1, 7));
  assert.equal(zonedToUtc('2026-01-01T09:00:00', 'Europe/Paris'), Date.UTC(2026, 0, 1, 8));
  assert.equal(zonedToUtc('2026-03-08T12:00:00', 'America/New_York'), Date.UTC(2026, 2, 8, 16));
  assert.equal(zonedToUtc('2026-12-03', 'Europe/Paris'), Date.UTC(2026, 11, 2, 23));
});

test('a wall time the clocks skip moves forward by the gap, one they repeat is the first (RFC 5545 §3.3.5)', () => {
  const utc = (local: string, tz: string) => new Date(zonedToUtc(local, tz)).toISOString();
  // West of UTC (the RFC's own examples), east of it, and the southern hemisphere.
  assert.equal(utc('2007-03-11T02:30:00', 'America/New_York'), '2007-03-11T07:30:00.000Z');
  assert.equal(utc('2007-11-04T01:30:00', 'America/New_York'), '2007-11-04T05:30:00.000Z');
  assert.equal(utc('2026-03-29T02:30:00', 'Europe/Paris'), '2026-03-29T01:30:00.000Z');
  assert.equal(utc('2026-10-25T02:30:00', 'Europe/Paris'), '2026-10-25T00:30:00.000Z');
  assert.equal(utc('2026-10-04T02:30:00', 'Australia/Sydney'), '2026-10-03T16:30:00.000Z');
  assert.equal(utc('2026-04-05T02:30:00', 'Australia/Sydney'), '2026-04-04T15:30:00.000Z');
  // A change at midnight, and one of half an hour.
  assert.equal(utc('2018-11-04T00:30:00', 'America/Sao_Paulo'), '2018-11-04T03:30:00.000Z');
  assert.equal(utc('2026-04-05T01:45:00', 'Australia/Lord_Howe'), '2026-04-04T14:45:00.000Z');
  // Either side of a change, times are what they always were.
  assert.equal(utc('2026-03-08T01:59:59', 'America/New_York'), '2026-03-08T06:59:59.000Z');
  assert.equal(utc('2026-03-08T03:00:00', 'America/New_York'), '2026-03-08T07:00:00.000Z');
  assert.equal(utc('2026-11-01T02:00:00', 'America/New_York'), '2026-11-01T07:00:00.000Z');
});

test('dates and formats', () => {
  assert.ok(isDateOnly('2026-02-28'));
  assert.ok(!isDateOnly('2026-02-30'));
  assert.ok(isDateOnly('2024-02-29'));
  assert.ok(!isDateOnly('2023-02-29'));
  assert.ok(!isDateOnly('2026-13-01'));
  assert.ok(!isDateOnly('2026-04-31'));
  assert.ok(isZonedDateTime('2026-02-28T10:00:00+01:00'));
  assert.ok(!isZonedDateTime('2024-02-30T00:00:00Z'));
  assert.equal(addDays('2026-12-31', 1), '2027-01-01');
  assert.equal(dateInZone(Date.UTC(2026, 0, 1, 23, 30), 'Europe/Paris'), '2026-01-02');
  assert.equal(formatUtc(Date.UTC(2026, 0, 1, 1, 2, 3, 999)), '2026-01-01T01:02:03Z');
});

test('formatUtc gives the same text whatever order instants come in (it keeps the last second)', () => {
  const t = Date.UTC(2026, 10, 24, 9, 0, 0);
  const cases: [number, string][] = [
    [t, '2026-11-24T09:00:00Z'],
    [t - 1, '2026-11-24T08:59:59Z'],
    [t + 999, '2026-11-24T09:00:00Z'],
    [t - 1000, '2026-11-24T08:59:59Z'],
    [t + 1000, '2026-11-24T09:00:01Z'],
    [t, '2026-11-24T09:00:00Z'],
    [-1, '1969-12-31T23:59:59Z'],
    [0, '1970-01-01T00:00:00Z'],
  ];
  for (const [ms, text] of cases) assert.equal(formatUtc(ms), text, String(ms));
  assert.throws(() => formatUtc(Number.NaN), RangeError);
  assert.equal(formatUtc(t), '2026-11-24T09:00:00Z');
});
