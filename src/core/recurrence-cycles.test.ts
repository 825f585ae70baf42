import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { EventTime } from '../domain/event-time.ts';
import type { Series } from './recurrence.ts';
import { expandSeries } from './recurrence.ts';

/**
 * A window years after a series' start is walked from its rule's cycle; a window that starts
 * nowhere (`from: -Infinity`) is walked by ical.js from the series' start. Both must give
 * the same occurrences.
 */
function walkedFromStart(series: Series, window: { from: number; to: number }) {
  const duration = (o: { startAt: number; endAt: number }) => o.endAt - o.startAt;
  return expandSeries(series, { from: -Infinity, to: window.to }).filter(
    (o) => o.endAt > window.from || (duration(o) === 0 && o.startAt >= window.from),
  );
}

type Boundaries = readonly [EventTime, EventTime];

function zoned(dateTime: string, minutes: number, timeZone: string): Boundaries {
  const end = new Date(Date.parse(`${dateTime}Z`) + minutes * 60_000).toISOString().slice(0, 19);
  return [
    { dateTime, timeZone },
    { dateTime: end, timeZone },
  ];
}

const withRule = (rule: string, [start, end]: Boundaries): Series => ({
  start,
  end,
  recurrence: [rule, 'EXDATE:20261209T160000Z'],
});

const cases = [
  withRule('RRULE:FREQ=WEEKLY', zoned('2019-03-04T09:00:00', 30, 'Europe/Paris')),
  withRule(
    'RRULE:FREQ=WEEKLY;BYDAY=TU,TH;INTERVAL=2',
    zoned('2020-01-08T17:30:00', 60, 'Asia/Tokyo'),
  ),
  withRule(
    'RRULE:FREQ=WEEKLY;BYDAY=SU,SA;WKST=SU;INTERVAL=3',
    zoned('2021-06-05T08:00:00', 45, 'UTC'),
  ),
  // 02:30 does not exist in New York on the second Sunday of March.
  withRule('RRULE:FREQ=WEEKLY;BYDAY=SU', zoned('2018-03-04T02:30:00', 60, 'America/New_York')),
  withRule('RRULE:FREQ=DAILY;INTERVAL=3', zoned('2024-10-27T01:30:00', 90, 'Europe/London')),
  withRule(
    'RRULE:FREQ=WEEKLY;UNTIL=20261215T080000Z',
    zoned('2017-12-12T09:00:00', 15, 'Europe/Paris'),
  ),
  withRule(
    'RRULE:FREQ=WEEKLY;BYDAY=MO,FR;UNTIL=20261211',
    zoned('2017-12-11T23:30:00', 60, 'Australia/Sydney'),
  ),
  withRule('RRULE:FREQ=DAILY', [
    { dateTime: '2024-05-01T10:00:00Z' },
    { dateTime: '2024-05-01T10:00:00Z' },
  ]),
  withRule('RRULE:FREQ=WEEKLY;BYDAY=WE', [{ date: '2015-07-01' }, { date: '2015-07-02' }]),
];

test('a window years after the start holds what a walk from the start finds there', () => {
  const windows = [
    { from: Date.UTC(2026, 11, 7), to: Date.UTC(2026, 11, 14) },
    { from: Date.UTC(2026, 11, 9, 16), to: Date.UTC(2027, 2, 31) },
    { from: Date.UTC(2027, 2, 13, 5), to: Date.UTC(2027, 2, 15) },
  ];
  for (const series of cases) {
    for (const window of windows) {
      const expected = walkedFromStart(series, window);
      // Twice: the first read learns the rule's cycle, the second reuses it.
      for (let read = 0; read < 2; read++) {
        assert.deepEqual(
          expandSeries(series, window),
          expected,
          `${series.recurrence[0]} from ${new Date(window.from).toISOString()}`,
        );
      }
    }
  }
});
