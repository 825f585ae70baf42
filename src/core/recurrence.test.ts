import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { EventTime } from '../domain/event-time.ts';
import { RecurrenceError, checkRecurrence, expandSeries, seriesEnd } from './recurrence.ts';

const year2027 = { from: Date.UTC(2026, 0, 1), to: Date.UTC(2028, 0, 1) };
const starts = (o: { start: unknown }[]) => o.map((x) => JSON.stringify(x.start));

test('a weekly Paris series stays at 09:00 local across both daylight-saving changes', () => {
  const occ = expandSeries(
    {
      start: { dateTime: '2026-10-19T09:00:00', timeZone: 'Europe/Paris' },
      end: { dateTime: '2026-10-19T09:30:00', timeZone: 'Europe/Paris' },
      recurrence: ['RRULE:FREQ=WEEKLY;UNTIL=20270405T070000Z'],
    },
    year2027,
  );
  assert.ok(
    occ.every((o) => 'dateTime' in o.start && /T09:00:00\+0[12]:00$/.test(o.start.dateTime)),
  );
  assert.deepEqual(occ[2]?.start, {
    dateTime: '2026-11-02T09:00:00+01:00',
    timeZone: 'Europe/Paris',
  });
  // Summer time (UTC+2) before 25 October, winter (UTC+1) after, summer again from 28 March.
  assert.equal(new Date(occ[0]!.startAt).toISOString(), '2026-10-19T07:00:00.000Z');
  assert.equal(new Date(occ[2].startAt).toISOString(), '2026-11-02T08:00:00.000Z');
  assert.equal(new Date(occ.at(-1)!.startAt).toISOString(), '2027-04-05T07:00:00.000Z');
  assert.ok(occ.every((o) => o.endAt - o.startAt === 30 * 60 * 1000));
});

test('monthly on the last Friday, COUNT, and an EXDATE', () => {
  const occ = expandSeries(
    {
      start: { dateTime: '2026-01-30T15:00:00Z' },
      end: { dateTime: '2026-01-30T16:00:00Z' },
      recurrence: ['RRULE:FREQ=MONTHLY;BYDAY=-1FR;COUNT=4', 'EXDATE:20260227T150000Z'],
    },
    year2027,
  );
  assert.deepEqual(starts(occ), [
    '{"dateTime":"2026-01-30T15:00:00Z"}',
    '{"dateTime":"2026-03-27T15:00:00Z"}',
    '{"dateTime":"2026-04-24T15:00:00Z"}',
  ]);
});

test('an all-day yearly series, and RDATE adding a day', () => {
  const occ = expandSeries(
    {
      start: { date: '2024-02-29' },
      end: { date: '2024-03-01' },
      recurrence: ['RRULE:FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=-1', 'RDATE;VALUE=DATE:20270701'],
    },
    year2027,
  );
  assert.deepEqual(starts(occ), [
    '{"date":"2026-02-28"}',
    '{"date":"2027-02-28"}',
    '{"date":"2027-07-01"}',
  ]);
  assert.deepEqual(occ[0]?.end, { date: '2026-03-01' });
});

test('an infinite weekly series read through one year holds that year only', () => {
  const occ = expandSeries(
    {
      start: { dateTime: '2020-01-06T08:00:00', timeZone: 'America/New_York' },
      end: { dateTime: '2020-01-06T08:15:00', timeZone: 'America/New_York' },
      recurrence: ['RRULE:FREQ=WEEKLY;BYDAY=MO,WE'],
    },
    { from: Date.UTC(2026, 0, 1), to: Date.UTC(2027, 0, 1) },
  );
  assert.equal(occ.length, 104);
  assert.ok(
    occ.every((o) => 'dateTime' in o.start && /T08:00:00-0[45]:00$/.test(o.start.dateTime)),
  );
});

test('bad lines are RecurrenceErrors that say what is wrong', () => {
  const series = (line: string) => ({
    start: { dateTime: '2026-01-05T09:00:00Z' },
    end: { dateTime: '2026-01-05T10:00:00Z' },
    recurrence: [line],
  });
  assert.throws(() => checkRecurrence(series('RRULE:FREQ=SOMETIMES')), RecurrenceError);
  assert.throws(() => checkRecurrence(series('EXDATE:tomorrow')), /not a date/);
  assert.throws(() => checkRecurrence(series('XRULE:FREQ=DAILY')), /unknown recurrence line/);
});

test('an EXRULE removes the starts it makes', () => {
  const occ = expandSeries(
    {
      start: { dateTime: '2026-03-02T09:00:00Z' },
      end: { dateTime: '2026-03-02T09:30:00Z' },
      recurrence: ['RRULE:FREQ=DAILY;COUNT=7', 'EXRULE:FREQ=WEEKLY;BYDAY=SA,SU'],
    },
    year2027,
  );
  assert.equal(occ.length, 5);
});

test('a daily 02:30 New York series: 03:30 EDT on the day 02:30 does not exist (RFC 5545 §3.3.10)', () => {
  const occ = expandSeries(
    {
      start: { dateTime: '2027-03-13T02:30:00', timeZone: 'America/New_York' },
      end: { dateTime: '2027-03-13T02:45:00', timeZone: 'America/New_York' },
      recurrence: ['RRULE:FREQ=DAILY;COUNT=3'],
    },
    year2027,
  );
  assert.deepEqual(
    occ.map((o) => [new Date(o.startAt).toISOString(), new Date(o.endAt).toISOString()]),
    [
      ['2027-03-13T07:30:00.000Z', '2027-03-13T07:45:00.000Z'],
      ['2027-03-14T07:30:00.000Z', '2027-03-14T07:45:00.000Z'],
      ['2027-03-15T06:30:00.000Z', '2027-03-15T06:45:00.000Z'],
    ],
  );
  assert.deepEqual(occ[1]?.start, {
    dateTime: '2027-03-14T03:30:00-04:00',
    timeZone: 'America/New_York',
  });
});

test('a daily 02:30 Paris series: the first 02:30 (CEST) on the day it happens twice', () => {
  const occ = expandSeries(
    {
      start: { dateTime: '2027-10-30T02:30:00', timeZone: 'Europe/Paris' },
      end: { dateTime: '2027-10-30T02:45:00', timeZone: 'Europe/Paris' },
      recurrence: ['RRULE:FREQ=DAILY;COUNT=2'],
    },
    year2027,
  );
  assert.deepEqual(occ[1]?.start, {
    dateTime: '2027-10-31T02:30:00+02:00',
    timeZone: 'Europe/Paris',
  });
  assert.equal(new Date(occ[1].startAt).toISOString(), '2027-10-31T00:30:00.000Z');
});

test('startsFrom: occurrences that began earlier are left out and do not use up the limit', () => {
  // Three-day occurrences every day: at any instant three of them are under way.
  const series = {
    start: { dateTime: '2027-01-01T09:00:00Z' },
    end: { dateTime: '2027-01-04T09:00:00Z' },
    recurrence: ['RRULE:FREQ=DAILY'],
  };
  const at = Date.UTC(2027, 0, 10, 9);
  const window = { from: at, to: Date.UTC(2027, 1, 1) };
  assert.deepEqual(starts(expandSeries(series, window, { limit: 2 })), [
    '{"dateTime":"2027-01-08T09:00:00Z"}',
    '{"dateTime":"2027-01-09T09:00:00Z"}',
  ]);
  assert.deepEqual(starts(expandSeries(series, window, { limit: 2, startsFrom: at })), [
    '{"dateTime":"2027-01-10T09:00:00Z"}',
    '{"dateTime":"2027-01-11T09:00:00Z"}',
  ]);
});

test('a yearly date some years lack is skipped and not counted (RFC 5545 §3.3.10)', () => {
  const dates = (start: string, rule: string) =>
    expandSeries(
      { start: { date: start }, end: { date: start }, recurrence: [`RRULE:${rule}`] },
      { from: 0, to: Date.UTC(2030, 0, 1) },
    ).map((o) => ('date' in o.start ? o.start.date : ''));
  // ical.js alone makes March 1st in other years, and counts it.
  assert.deepEqual(dates('2012-02-29', 'FREQ=YEARLY;COUNT=4'), [
    '2012-02-29',
    '2016-02-29',
    '2020-02-29',
    '2024-02-29',
  ]);
  assert.deepEqual(dates('2027-01-31', 'FREQ=YEARLY;BYMONTH=1,2,3'), [
    '2027-01-31',
    '2027-03-31',
    '2028-01-31',
    '2028-03-31',
    '2029-01-31',
    '2029-03-31',
  ]);
  assert.deepEqual(dates('2027-03-31', 'FREQ=YEARLY;BYMONTH=4;UNTIL=20291231'), ['2027-03-31']);
});

test('a yearly rule for a date that never exists makes nothing more, and ends', () => {
  const occ = expandSeries(
    {
      start: { dateTime: '2027-01-30T09:00:00Z' },
      end: { dateTime: '2027-01-30T10:00:00Z' },
      recurrence: ['RRULE:FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30'],
    },
    { from: 0, to: Date.UTC(2100, 0, 1) },
  );
  assert.deepEqual(starts(occ), ['{"dateTime":"2027-01-30T09:00:00Z"}']);
});

test('an hourly or minutely series begun years before the window is still read in it', () => {
  const day = { from: Date.UTC(2027, 5, 1), to: Date.UTC(2027, 5, 2) };
  const series = (start: string, rule: string) => ({
    start: { dateTime: `${start}T00:07:00`, timeZone: 'Asia/Tokyo' },
    end: { dateTime: `${start}T00:09:00`, timeZone: 'Asia/Tokyo' },
    recurrence: [`RRULE:${rule}`],
  });
  // More periods than a walk takes steps (MAX_STEPS) lie between the start and the window.
  const hourly = expandSeries(series('2012-01-01', 'FREQ=HOURLY;INTERVAL=1'), day);
  assert.equal(hourly.length, 24);
  assert.equal(new Date(hourly[0]!.startAt).toISOString(), '2027-06-01T00:07:00.000Z');
  const minutely = expandSeries(series('2024-01-01', 'FREQ=MINUTELY;INTERVAL=10'), day);
  assert.equal(minutely.length, 144);
  assert.equal(new Date(minutely[0]!.startAt).toISOString(), '2027-06-01T00:07:00.000Z');
});

test('COUNT counts DTSTART first, even when it is off the rule (RFC 5545 §3.3.10)', () => {
  const series = (rule: string) => ({
    // A Wednesday, for a rule of Mondays.
    start: { dateTime: '2027-01-06T10:00:00Z' },
    end: { dateTime: '2027-01-06T11:00:00Z' },
    recurrence: [`RRULE:${rule}`],
  });
  assert.deepEqual(starts(expandSeries(series('FREQ=WEEKLY;BYDAY=MO;COUNT=3'), year2027)), [
    '{"dateTime":"2027-01-06T10:00:00Z"}',
    '{"dateTime":"2027-01-11T10:00:00Z"}',
    '{"dateTime":"2027-01-18T10:00:00Z"}',
  ]);
  assert.deepEqual(starts(expandSeries(series('FREQ=WEEKLY;BYDAY=MO;COUNT=1'), year2027)), [
    '{"dateTime":"2027-01-06T10:00:00Z"}',
  ]);
  assert.equal(seriesEnd(series('FREQ=WEEKLY;BYDAY=MO;COUNT=1')), Date.UTC(2027, 0, 6, 11));
  // On the rule, DTSTART is the rule's own first start: COUNT as written.
  assert.equal(expandSeries(series('FREQ=WEEKLY;BYDAY=WE;COUNT=3'), year2027).length, 3);
});

test('BYWEEKNO with BYDAY picks the weeks asked for (RFC 5545 §3.3.10 examples)', () => {
  const dates = (start: string, rule: string, to: number) =>
    expandSeries(
      {
        start: { dateTime: `${start}T09:00:00`, timeZone: 'America/New_York' },
        end: { dateTime: `${start}T10:00:00`, timeZone: 'America/New_York' },
        recurrence: [`RRULE:${rule}`],
      },
      { from: 0, to },
    ).map((o) => ('dateTime' in o.start ? o.start.dateTime.slice(0, 10) : ''));
  // "Monday of week number 20": ical.js alone makes every Monday but those.
  assert.deepEqual(dates('2007-05-14', 'FREQ=YEARLY;BYWEEKNO=20;BYDAY=MO', Date.UTC(2010, 0)), [
    '2007-05-14',
    '2008-05-12',
    '2009-05-11',
  ]);
  // Week 1 may start in December; week 53 exists in 2026 only; -1 is the last week.
  assert.deepEqual(
    dates('2025-12-29', 'FREQ=YEARLY;BYWEEKNO=1,53;BYDAY=MO', Date.UTC(2030, 0, 2)),
    ['2025-12-29', '2026-12-28', '2027-01-04', '2028-01-03', '2029-01-01', '2029-12-31'],
  );
  assert.deepEqual(
    dates('2026-12-28', 'FREQ=YEARLY;BYWEEKNO=-1;BYDAY=MO;COUNT=3', Date.UTC(2030, 0)),
    ['2026-12-28', '2027-12-27', '2028-12-25'],
  );
});

test('a rule that would run past the year 9999 ends there', () => {
  const ends = (start: EventTime, end: EventTime) =>
    seriesEnd({ start, end, recurrence: ['RRULE:FREQ=YEARLY;INTERVAL=1000;COUNT=20'] });
  const timed = ends({ dateTime: '2026-12-07T09:00:00Z' }, { dateTime: '2026-12-07T10:00:00Z' });
  assert.equal(timed, Date.UTC(9026, 11, 7, 10));
  assert.equal(ends({ date: '2026-12-07' }, { date: '2026-12-08' }), Date.UTC(9026, 11, 8));
  const huge = {
    start: { dateTime: '2026-12-07T09:00:00', timeZone: 'Europe/Paris' },
    end: { dateTime: '2026-12-07T10:00:00', timeZone: 'Europe/Paris' },
    recurrence: ['RRULE:FREQ=YEARLY;COUNT=20000'],
  };
  assert.equal(new Date(seriesEnd(huge) ?? Number.NaN).toISOString(), '9999-12-07T09:00:00.000Z');
  assert.equal(expandSeries(huge, year2027).length, 2);
});
