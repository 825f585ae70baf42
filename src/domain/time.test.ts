import { test } from 'node:test';
import assert from 'node:assert/strict';
import { addDays, dateInZone, formatUtc, isDateOnly, isZonedDateTime, zonedToUtc } from './time.ts';

test('wall-clock times convert to UTC across DST', () => {
  assert.equal(zonedToUtc('2026-07-01T09:00:00', 'Europe/Paris'), Date.UTC(2026, 6, 1, 7));
  assert.equal(zonedToUtc('2026-01-01T09:00:00', 'Europe/Paris'), Date.UTC(2026, 0, 1, 8));
  assert.equal(zonedToUtc('2026-03-08T12:00:00', 'America/New_York'), Date.UTC(2026, 2, 8, 16));
  assert.equal(zonedToUtc('2026-12-03', 'Europe/Paris'), Date.UTC(2026, 11, 2, 23));
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
