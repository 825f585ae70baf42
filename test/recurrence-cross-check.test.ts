import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import ICAL from 'ical.js';
import { auth, calendar } from '@googleapis/calendar';
import type { calendar_v3 } from '@googleapis/calendar';
import type { Harness, TestAccount } from './support/harness.ts';
import { createTestAccount, startHarness } from './support/harness.ts';
import { ManualClock } from '../src/domain/clock.ts';

/**
 * The cross-check of issue 21: for each series, the occurrences calpush serves through the
 * Google face (events.list, singleEvents, paged, windowed by timeMin/timeMax) are those ical.js
 * computes on its own from a real VCALENDAR. ical.js is used the other way round from
 * calpush: the series' zones are VTIMEZONE components (today's rules, written out below), the
 * VEVENT carries DTSTART;TZID, DTEND, RRULE, RDATE and EXDATE, `ICAL.Event#iterator` walks it
 * from its real DTSTART, and ical.js converts every start and end to UTC itself. calpush runs
 * the rule on a floating clock, may start its walk periods after DTSTART and converts with
 * Intl: any shortcut that changes the result shows up here.
 *
 * Where ical.js itself departs from RFC 5545 the case says so (`icalJsWrong`, `exactEnds`) and
 * names the expected value by hand; everything else of that series is still compared.
 */

const VTIMEZONES: Record<string, readonly string[]> = {
  'Europe/Paris': [
    'BEGIN:VTIMEZONE',
    'TZID:Europe/Paris',
    'BEGIN:DAYLIGHT',
    'TZOFFSETFROM:+0100',
    'TZOFFSETTO:+0200',
    'TZNAME:CEST',
    'DTSTART:19810329T020000',
    'RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU',
    'END:DAYLIGHT',
    'BEGIN:STANDARD',
    'TZOFFSETFROM:+0200',
    'TZOFFSETTO:+0100',
    'TZNAME:CET',
    'DTSTART:19961027T030000',
    'RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU',
    'END:STANDARD',
    'END:VTIMEZONE',
  ],
  // Today's US rules date from 2007, so every New York series here starts later.
  'America/New_York': [
    'BEGIN:VTIMEZONE',
    'TZID:America/New_York',
    'BEGIN:DAYLIGHT',
    'TZOFFSETFROM:-0500',
    'TZOFFSETTO:-0400',
    'TZNAME:EDT',
    'DTSTART:20070311T020000',
    'RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=2SU',
    'END:DAYLIGHT',
    'BEGIN:STANDARD',
    'TZOFFSETFROM:-0400',
    'TZOFFSETTO:-0500',
    'TZNAME:EST',
    'DTSTART:20071104T020000',
    'RRULE:FREQ=YEARLY;BYMONTH=11;BYDAY=1SU',
    'END:STANDARD',
    'END:VTIMEZONE',
  ],
  // Southern hemisphere: summer time from October to April; these rules date from 2008.
  'Australia/Sydney': [
    'BEGIN:VTIMEZONE',
    'TZID:Australia/Sydney',
    'BEGIN:STANDARD',
    'TZOFFSETFROM:+1100',
    'TZOFFSETTO:+1000',
    'TZNAME:AEST',
    'DTSTART:20080406T030000',
    'RRULE:FREQ=YEARLY;BYMONTH=4;BYDAY=1SU',
    'END:STANDARD',
    'BEGIN:DAYLIGHT',
    'TZOFFSETFROM:+1000',
    'TZOFFSETTO:+1100',
    'TZNAME:AEDT',
    'DTSTART:20081005T020000',
    'RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=1SU',
    'END:DAYLIGHT',
    'END:VTIMEZONE',
  ],
  'Asia/Tokyo': [
    'BEGIN:VTIMEZONE',
    'TZID:Asia/Tokyo',
    'BEGIN:STANDARD',
    'TZOFFSETFROM:+0900',
    'TZOFFSETTO:+0900',
    'TZNAME:JST',
    'DTSTART:19700101T000000',
    'END:STANDARD',
    'END:VTIMEZONE',
  ],
  UTC: [
    'BEGIN:VTIMEZONE',
    'TZID:UTC',
    'BEGIN:STANDARD',
    'TZOFFSETFROM:+0000',
    'TZOFFSETTO:+0000',
    'TZNAME:UTC',
    'DTSTART:19700101T000000',
    'END:STANDARD',
    'END:VTIMEZONE',
  ],
};

/** An occurrence ical.js converts against RFC 5545, and what the RFC makes of it. */
interface Deviation {
  /** The occurrence's wall time as the rule makes it. */
  readonly wall: string;
  /** RFC 3339 with the offset RFC 5545 §3.3.5 gives it. */
  readonly start: string;
  readonly end: string;
}

interface Case {
  readonly label: string;
  /** The IANA zone of DTSTART/DTEND; absent for UTC (`…Z`) and all-day series. */
  readonly zone?: string;
  /** As iCalendar writes it: `20270314T023000` (in `zone`), `20270601T120000Z`, `20270102`. */
  readonly start: string;
  readonly end: string;
  /** RRULE, RDATE and EXDATE lines, as calpush is given them. */
  readonly lines: readonly string[];
  /**
   * What ical.js is given instead, where it gets the rule itself wrong: the same recurrence
   * set, written so that ical.js computes it right. The case says why.
   */
  readonly icalJsLines?: readonly string[];
  /** [timeMin, timeMax) windows the series is read through. */
  readonly windows: readonly (readonly [string, string])[];
  /** Occurrences in each window, where the count is worth stating (else: at least one). */
  readonly counts?: readonly number[];
  /**
   * The local start dates in the first window, from RFC 5545's examples or worked out by hand:
   * where a BY-part is computed by ical.js on both sides, this is what checks ical.js.
   */
  readonly dates?: readonly string[];
  /**
   * ical.js 2.2.1 resolves a local time in a daylight-saving gap with the offset after the gap
   * (an hour early) and a repeated local time with standard time (the second one): its
   * `Timezone#utcOffset` has `let want_daylight = false; // TODO`. RFC 5545 §3.3.5 (and
   * §3.3.10 for recurrence instances) says: a nonexistent time takes the offset before the
   * gap (it moves forward by the gap), a repeated time is the first one. (§3.3.10 also says
   * instances at a "nonexistent local time" are ignored; the paragraph after it, and §3.3.5,
   * read them as above, as calpush does and as issue 21 asks.)
   */
  readonly icalJsWrong?: readonly Deviation[];
  /**
   * ical.js adds the event's duration to each occurrence's wall clock (getOccurrenceDetails),
   * so an occurrence that spans a change is an hour shorter or longer. RFC 5545 §3.8.5.3:
   * "If the duration of the recurring component is specified with the DTEND [...] property,
   * then the same exact duration will apply to all the members of the generated recurrence
   * set." The expected end is the start plus ical.js's own exact duration (event.duration).
   */
  readonly exactEnds?: boolean;
}

const YEAR_2027: readonly [string, string] = ['2027-01-01T00:00:00Z', '2028-01-01T00:00:00Z'];

const cases: readonly Case[] = [
  // FREQ below DAILY.
  {
    label: 'SECONDLY every 45 s, COUNT=12, UTC',
    start: '20270601T120000Z',
    end: '20270601T120010Z',
    lines: ['RRULE:FREQ=SECONDLY;INTERVAL=45;COUNT=12'],
    windows: [['2027-06-01T00:00:00Z', '2027-06-02T00:00:00Z']],
    counts: [12],
  },
  {
    label: 'MINUTELY every 20 min in BYHOUR=8,9, New York, over the spring-forward weekend',
    zone: 'America/New_York',
    start: '20270312T080000',
    end: '20270312T080500',
    lines: ['RRULE:FREQ=MINUTELY;INTERVAL=20;BYHOUR=8,9;UNTIL=20270316T000000Z'],
    windows: [['2027-03-12T00:00:00Z', '2027-03-17T00:00:00Z']],
    counts: [24],
  },
  {
    label: 'HOURLY INTERVAL=5 on weekends since 2025, Tokyo: a walk that starts near the window',
    zone: 'Asia/Tokyo',
    start: '20250104T010000',
    end: '20250104T013000',
    lines: ['RRULE:FREQ=HOURLY;INTERVAL=5;BYDAY=SA,SU'],
    windows: [['2027-02-01T00:00:00Z', '2027-03-01T00:00:00Z']],
  },
  {
    label: 'HOURLY through the Paris spring-forward gap: 02:00 is 03:00 CEST, one instance',
    zone: 'Europe/Paris',
    start: '20270327T220000',
    end: '20270327T223000',
    lines: ['RRULE:FREQ=HOURLY;COUNT=8'],
    windows: [['2027-03-27T00:00:00Z', '2027-03-29T00:00:00Z']],
    // The rule's 02:00 moves to 03:00 CEST, which it makes anyway. ical.js skips 02:00: the
    // same set.
    counts: [7],
  },
  {
    label: 'HOURLY BYHOUR=1,2,3 through the Paris fall-back: 02:00 happens twice',
    zone: 'Europe/Paris',
    start: '20271030T010000',
    end: '20271030T011500',
    lines: ['RRULE:FREQ=HOURLY;BYHOUR=1,2,3;UNTIL=20271101T030000Z'],
    windows: [['2027-10-29T00:00:00Z', '2027-11-02T00:00:00Z']],
    counts: [9],
    icalJsWrong: [
      {
        wall: '2027-10-31T02:00:00',
        start: '2027-10-31T02:00:00+02:00',
        end: '2027-10-31T02:15:00+02:00',
      },
    ],
  },

  // Short events at 02:30 on the days the clocks change: what calpush does there.
  {
    label: 'DAILY 02:30 New York on the spring-forward day: 03:30 EDT',
    zone: 'America/New_York',
    start: '20270311T023000',
    end: '20270311T024500',
    lines: ['RRULE:FREQ=DAILY;COUNT=5'],
    windows: [['2027-03-10T00:00:00Z', '2027-03-17T00:00:00Z']],
    counts: [5],
    icalJsWrong: [
      {
        wall: '2027-03-14T02:30:00',
        start: '2027-03-14T03:30:00-04:00',
        end: '2027-03-14T03:45:00-04:00',
      },
    ],
  },
  {
    label: 'DAILY 02:30 Paris on the spring-forward day: 03:30 CEST',
    zone: 'Europe/Paris',
    start: '20270326T023000',
    end: '20270326T024500',
    lines: ['RRULE:FREQ=DAILY;COUNT=5'],
    windows: [['2027-03-25T00:00:00Z', '2027-04-01T00:00:00Z']],
    counts: [5],
    icalJsWrong: [
      {
        wall: '2027-03-28T02:30:00',
        start: '2027-03-28T03:30:00+02:00',
        end: '2027-03-28T03:45:00+02:00',
      },
    ],
  },
  {
    label: 'DAILY 02:30 Sydney on the October spring-forward day: 03:30 AEDT',
    zone: 'Australia/Sydney',
    start: '20271001T023000',
    end: '20271001T024500',
    lines: ['RRULE:FREQ=DAILY;COUNT=5'],
    windows: [['2027-09-30T00:00:00Z', '2027-10-06T00:00:00Z']],
    counts: [5],
    icalJsWrong: [
      {
        wall: '2027-10-03T02:30:00',
        start: '2027-10-03T03:30:00+11:00',
        end: '2027-10-03T03:45:00+11:00',
      },
    ],
  },
  {
    label: 'DAILY 01:30 New York on the fall-back day: the first 01:30 (EDT)',
    zone: 'America/New_York',
    start: '20271105T013000',
    end: '20271105T014500',
    lines: ['RRULE:FREQ=DAILY;COUNT=5'],
    windows: [['2027-11-04T00:00:00Z', '2027-11-11T00:00:00Z']],
    counts: [5],
    icalJsWrong: [
      {
        wall: '2027-11-07T01:30:00',
        start: '2027-11-07T01:30:00-04:00',
        end: '2027-11-07T01:45:00-04:00',
      },
    ],
  },
  {
    label: 'WEEKLY Sunday 02:30 Sydney over the April fall-back: the first 02:30 (AEDT)',
    zone: 'Australia/Sydney',
    start: '20270314T023000',
    end: '20270314T024500',
    lines: ['RRULE:FREQ=WEEKLY;COUNT=6'],
    windows: [['2027-03-01T00:00:00Z', '2027-05-01T00:00:00Z']],
    counts: [6],
    icalJsWrong: [
      {
        wall: '2027-04-04T02:30:00',
        start: '2027-04-04T02:30:00+11:00',
        end: '2027-04-04T02:45:00+11:00',
      },
    ],
  },
  {
    label: 'DAILY 22:00–06:00 Paris, nights that span both changes: ends exact',
    zone: 'Europe/Paris',
    start: '20270326T220000',
    end: '20270327T060000',
    lines: ['RRULE:FREQ=DAILY;COUNT=3', 'RDATE;TZID=Europe/Paris:20271030T220000'],
    windows: [['2027-03-01T00:00:00Z', '2027-11-01T00:00:00Z']],
    counts: [4],
    exactEnds: true,
  },

  // Series begun years before the window: calpush may start its walk later (walkStart).
  {
    label: 'DAILY INTERVAL=3 since 2014, New York, through 2027',
    zone: 'America/New_York',
    start: '20140102T070000',
    end: '20140102T073000',
    lines: ['RRULE:FREQ=DAILY;INTERVAL=3'],
    windows: [YEAR_2027],
  },
  {
    label: 'DAILY in July and August on weekends (BYMONTH, BYDAY limit) since 2016, New York',
    zone: 'America/New_York',
    start: '20160702T100000',
    end: '20160702T120000',
    lines: ['RRULE:FREQ=DAILY;BYMONTH=7,8;BYDAY=SA,SU'],
    windows: [YEAR_2027],
  },
  {
    label: 'DAILY since 2018, Sydney, infinite, through one year',
    zone: 'Australia/Sydney',
    start: '20180101T063000',
    end: '20180101T070000',
    lines: ['RRULE:FREQ=DAILY'],
    windows: [YEAR_2027],
    counts: [365],
  },
  {
    label: 'WEEKLY INTERVAL=2 on TU,TH since 2015, Paris',
    zone: 'Europe/Paris',
    start: '20150106T180000',
    end: '20150106T190000',
    lines: ['RRULE:FREQ=WEEKLY;INTERVAL=2;BYDAY=TU,TH'],
    windows: [YEAR_2027],
  },
  {
    label: 'WEEKLY MO,WE,FR since 2019, New York, infinite, through one year',
    zone: 'America/New_York',
    start: '20190107T083000',
    end: '20190107T084500',
    lines: ['RRULE:FREQ=WEEKLY;BYDAY=MO,WE,FR'],
    windows: [YEAR_2027],
    // 52 weeks and a Friday (2027 begins and ends on one).
    counts: [157],
  },
  {
    label: 'MONTHLY INTERVAL=5 on the 28th since 2012, Sydney',
    zone: 'Australia/Sydney',
    start: '20120128T120000',
    end: '20120128T130000',
    lines: ['RRULE:FREQ=MONTHLY;INTERVAL=5'],
    windows: [YEAR_2027],
  },
  {
    label: 'MONTHLY INTERVAL=2 on the 29th since Feb 2016: February only in leap years',
    zone: 'Europe/Paris',
    start: '20160229T100000',
    end: '20160229T110000',
    lines: ['RRULE:FREQ=MONTHLY;INTERVAL=2'],
    windows: [['2027-01-01T00:00:00Z', '2029-01-01T00:00:00Z']],
    // Feb 2027 has no 29th (RFC 5545 §3.3.10: such dates are ignored), Feb 2028 has.
    counts: [11],
  },
  {
    label: 'MONTHLY on the 30th since 2020, UTC, with UNTIL',
    start: '20200130T150000Z',
    end: '20200130T160000Z',
    lines: ['RRULE:FREQ=MONTHLY;UNTIL=20280101T000000Z'],
    windows: [YEAR_2027],
    counts: [11],
  },
  {
    label: 'MONTHLY on the 31st since 2018, Tokyo: months without one are skipped',
    zone: 'Asia/Tokyo',
    start: '20180131T090000',
    end: '20180131T100000',
    lines: ['RRULE:FREQ=MONTHLY'],
    windows: [YEAR_2027],
    dates: [
      '2027-01-31',
      '2027-03-31',
      '2027-05-31',
      '2027-07-31',
      '2027-08-31',
      '2027-10-31',
      '2027-12-31',
    ],
  },
  {
    label: 'MONTHLY on the last Friday (BYDAY=-1FR) since 2016, New York',
    zone: 'America/New_York',
    start: '20160129T160000',
    end: '20160129T170000',
    lines: ['RRULE:FREQ=MONTHLY;BYDAY=-1FR'],
    windows: [YEAR_2027],
    counts: [12],
  },
  {
    label: 'MONTHLY on the second Tuesday (BYDAY=2TU), COUNT=30, Paris',
    zone: 'Europe/Paris',
    start: '20260113T100000',
    end: '20260113T110000',
    lines: ['RRULE:FREQ=MONTHLY;BYDAY=2TU;COUNT=30'],
    windows: [YEAR_2027, ['2028-01-01T00:00:00Z', '2029-01-01T00:00:00Z']],
    counts: [12, 6],
  },
  {
    label: 'MONTHLY BYMONTHDAY=1,15,-1 (negative: the last day), Tokyo',
    zone: 'Asia/Tokyo',
    start: '20260101T080000',
    end: '20260101T083000',
    lines: ['RRULE:FREQ=MONTHLY;BYMONTHDAY=1,15,-1'],
    windows: [YEAR_2027],
    counts: [36],
  },
  {
    label: 'MONTHLY last workday (BYDAY=MO..FR;BYSETPOS=-1) since Jan 31 2022, Paris',
    zone: 'Europe/Paris',
    start: '20220131T170000',
    end: '20220131T180000',
    lines: ['RRULE:FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1'],
    windows: [YEAR_2027],
    dates: [
      '2027-01-29',
      '2027-02-26',
      '2027-03-31',
      '2027-04-30',
      '2027-05-31',
      '2027-06-30',
      '2027-07-30',
      '2027-08-31',
      '2027-09-30',
      '2027-10-29',
      '2027-11-30',
      '2027-12-31',
    ],
  },
  {
    label: 'MONTHLY Friday the 13th (BYDAY=FR;BYMONTHDAY=13) since 2010, UTC',
    start: '20100813T200000Z',
    end: '20100813T210000Z',
    lines: ['RRULE:FREQ=MONTHLY;BYDAY=FR;BYMONTHDAY=13'],
    windows: [['2026-01-01T00:00:00Z', '2029-01-01T00:00:00Z']],
    dates: ['2026-02-13', '2026-03-13', '2026-11-13', '2027-08-13', '2028-10-13'],
  },
  {
    label: 'YEARLY INTERVAL=2 BYMONTH=3,9 BYDAY=1SU since 2011, Paris',
    zone: 'Europe/Paris',
    start: '20110306T110000',
    end: '20110306T120000',
    lines: ['RRULE:FREQ=YEARLY;INTERVAL=2;BYMONTH=3,9;BYDAY=1SU'],
    windows: [['2026-01-01T00:00:00Z', '2030-01-01T00:00:00Z']],
    dates: ['2027-03-07', '2027-09-05', '2029-03-04', '2029-09-02'],
  },
  {
    label: 'YEARLY INTERVAL=3 on April 30th since 2009, Sydney',
    zone: 'Australia/Sydney',
    start: '20090430T100000',
    end: '20090430T110000',
    lines: ['RRULE:FREQ=YEARLY;INTERVAL=3'],
    windows: [['2027-01-01T00:00:00Z', '2031-01-01T00:00:00Z']],
    dates: ['2027-04-30', '2030-04-30'],
  },
  {
    label: 'YEARLY on February 29th, COUNT=5, all-day: leap years only, and counted so',
    start: '20120229',
    end: '20120301',
    lines: ['RRULE:FREQ=YEARLY;COUNT=5'],
    // ical.js rolls February 29 over to March 1 in other years (and counts it) unless the
    // month and day are explicit; RFC 5545 §3.3.10 ignores such dates and does not count them.
    icalJsLines: ['RRULE:FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29;COUNT=5'],
    windows: [['2020-01-01T00:00:00Z', '2033-01-01T00:00:00Z']],
    dates: ['2020-02-29', '2024-02-29', '2028-02-29'],
  },
  {
    label: 'YEARLY BYMONTH=1,2,3 from January 31st, Paris: no February',
    zone: 'Europe/Paris',
    start: '20250131T080000',
    end: '20250131T090000',
    lines: ['RRULE:FREQ=YEARLY;BYMONTH=1,2,3'],
    // ical.js makes March 2 or 3 from "February 31" even with BYMONTHDAY=31 written out; the
    // same set as a MONTHLY rule limited to those months (INTERVAL=1), which it gets right.
    icalJsLines: ['RRULE:FREQ=MONTHLY;BYMONTH=1,2,3'],
    windows: [YEAR_2027],
    dates: ['2027-01-31', '2027-03-31'],
  },
  {
    label: 'YEARLY BYYEARDAY=1,100,-1, Tokyo',
    zone: 'Asia/Tokyo',
    start: '20260101T000000',
    end: '20260101T010000',
    lines: ['RRULE:FREQ=YEARLY;BYYEARDAY=1,100,-1'],
    windows: [YEAR_2027],
    // Jan 1 2027 00:00 JST is still 2026 in UTC; Jan 1 2028's is in 2027.
    dates: ['2027-04-10', '2027-12-31', '2028-01-01'],
  },
  {
    label: 'YEARLY BYWEEKNO=1,53 on Mondays since 2019, New York: week 53 in long years only',
    zone: 'America/New_York',
    start: '20191230T090000',
    end: '20191230T100000',
    lines: ['RRULE:FREQ=YEARLY;BYWEEKNO=1,53;BYDAY=MO'],
    // ical.js 2.2.1 keeps the weeks *not* listed first (recur_iterator.js:
    // `if (this.by_data.BYWEEKNO.indexOf(weekno))`): every Monday here. It is given the
    // instances written out instead, from ISO week dates (Python's date.fromisocalendar).
    icalJsLines: ['RDATE;TZID=America/New_York:20261228T090000,20270104T090000,20280103T090000'],
    windows: [['2026-01-01T00:00:00Z', '2029-01-01T00:00:00Z']],
    dates: ['2026-12-28', '2027-01-04', '2028-01-03'],
  },
  {
    label: 'YEARLY US election day (BYMONTH=11;BYDAY=TU;BYMONTHDAY=2..8) every 4 years, UTC',
    start: '20241105T120000Z',
    end: '20241105T130000Z',
    lines: ['RRULE:FREQ=YEARLY;INTERVAL=4;BYMONTH=11;BYDAY=TU;BYMONTHDAY=2,3,4,5,6,7,8'],
    windows: [['2027-01-01T00:00:00Z', '2033-01-01T00:00:00Z']],
    dates: ['2028-11-07', '2032-11-02'],
  },

  // WKST: RFC 5545 §3.3.10's own example, where the week start changes the result.
  {
    label: 'WKST=MO: WEEKLY;INTERVAL=2;COUNT=4;BYDAY=TU,SU from 1997-08-05 (RFC example)',
    zone: 'Asia/Tokyo',
    start: '19970805T090000',
    end: '19970805T100000',
    lines: ['RRULE:FREQ=WEEKLY;INTERVAL=2;COUNT=4;BYDAY=TU,SU;WKST=MO'],
    windows: [['1997-08-01T00:00:00Z', '1997-09-01T00:00:00Z']],
    dates: ['1997-08-05', '1997-08-10', '1997-08-19', '1997-08-24'],
  },
  {
    label: 'WKST=SU: the same rule gives other days (RFC example)',
    zone: 'Asia/Tokyo',
    start: '19970805T090000',
    end: '19970805T100000',
    lines: ['RRULE:FREQ=WEEKLY;INTERVAL=2;COUNT=4;BYDAY=TU,SU;WKST=SU'],
    windows: [['1997-08-01T00:00:00Z', '1997-09-01T00:00:00Z']],
    dates: ['1997-08-05', '1997-08-17', '1997-08-19', '1997-08-31'],
  },
  {
    label: 'WKST=SU, INTERVAL=2, infinite since 2019, New York: a later walk keeps the weeks',
    zone: 'America/New_York',
    start: '20190806T090000',
    end: '20190806T100000',
    lines: ['RRULE:FREQ=WEEKLY;INTERVAL=2;BYDAY=TU,SU;WKST=SU'],
    windows: [YEAR_2027],
  },

  // COUNT, UNTIL, RDATE, EXDATE, windows.
  {
    label: 'DAILY COUNT=10, EXDATE;TZID and in UTC, RDATE;TZID in another zone and in UTC',
    zone: 'Europe/Paris',
    start: '20270105T090000',
    end: '20270105T100000',
    lines: [
      'RRULE:FREQ=DAILY;COUNT=10',
      'EXDATE;TZID=Europe/Paris:20270107T090000,20270110T090000',
      'EXDATE:20270112T080000Z',
      'RDATE;TZID=America/New_York:20270120T150000',
      'RDATE:20270125T080000Z',
    ],
    windows: [['2027-01-01T00:00:00Z', '2027-02-01T00:00:00Z']],
    counts: [9],
  },
  {
    label: 'WEEKLY with UNTIL exactly on an occurrence (inclusive), New York',
    zone: 'America/New_York',
    start: '20270104T090000',
    end: '20270104T100000',
    lines: ['RRULE:FREQ=WEEKLY;UNTIL=20270301T140000Z'],
    windows: [['2027-01-01T00:00:00Z', '2027-04-01T00:00:00Z']],
    counts: [9],
  },
  {
    label: 'DAILY Tokyo: windows from a start to a start, and from an end to an end',
    zone: 'Asia/Tokyo',
    start: '20270101T120000',
    end: '20270101T130000',
    lines: ['RRULE:FREQ=DAILY'],
    windows: [
      // The occurrence starting at timeMin is in, the one starting at timeMax is out.
      ['2027-01-05T03:00:00Z', '2027-01-08T03:00:00Z'],
      // The one ending at timeMin is out (Google: timeMin bounds the end, exclusive).
      ['2027-01-05T04:00:00Z', '2027-01-08T04:00:00Z'],
    ],
    counts: [3, 3],
    dates: ['2027-01-05', '2027-01-06', '2027-01-07'],
  },
  {
    label: 'Two RRULEs and an RDATE equal to a rule instance (one instance), Tokyo',
    zone: 'Asia/Tokyo',
    start: '20270104T180000',
    end: '20270104T190000',
    // RFC 5545 says RRULE SHOULD NOT appear twice, but the set is still the union (§3.8.5.3).
    lines: [
      'RRULE:FREQ=WEEKLY;BYDAY=MO;COUNT=4',
      'RRULE:FREQ=MONTHLY;BYMONTHDAY=15;UNTIL=20270315T090000Z',
      'RDATE;TZID=Asia/Tokyo:20270111T180000',
    ],
    windows: [['2027-01-01T00:00:00Z', '2027-04-01T00:00:00Z']],
    counts: [7],
  },
  {
    label: 'The zone named UTC, weekdays, across the start of the window',
    zone: 'UTC',
    start: '20261230T230000',
    end: '20261231T003000',
    lines: ['RRULE:FREQ=DAILY;BYDAY=MO,TU,WE,TH,FR'],
    windows: [['2027-01-01T00:00:00Z', '2027-01-15T00:00:00Z']],
    // The Dec 31 occurrence ends at 00:30 on Jan 1: it overlaps the window.
    counts: [11],
  },

  // All-day series.
  {
    label: 'All-day weekends with UNTIL as a DATE (inclusive); windows at midnight',
    start: '20270102',
    end: '20270103',
    lines: ['RRULE:FREQ=WEEKLY;BYDAY=SA,SU;UNTIL=20270131'],
    windows: [
      ['2027-01-01T00:00:00Z', '2027-02-15T00:00:00Z'],
      ['2027-01-09T00:00:00Z', '2027-01-16T00:00:00Z'],
    ],
    counts: [10, 2],
  },
  {
    label: 'All-day DAILY INTERVAL=10 since 2013 with EXDATE;VALUE=DATE',
    start: '20130105',
    end: '20130106',
    lines: ['RRULE:FREQ=DAILY;INTERVAL=10', 'EXDATE;VALUE=DATE:20270303'],
    windows: [YEAR_2027],
    counts: [36],
  },
  {
    label: 'All-day two-day event on the last day of the month, and RDATE;VALUE=DATE',
    start: '20260131',
    end: '20260202',
    lines: ['RRULE:FREQ=MONTHLY;BYMONTHDAY=-1', 'RDATE;VALUE=DATE:20270615'],
    windows: [YEAR_2027],
    // Dec 31 2026 runs into the window too.
    counts: [14],
  },
];

interface Occurrence {
  readonly startDate: ICAL.Time;
  readonly endDate: ICAL.Time;
}

interface Instance {
  readonly startAt: number;
  readonly endAt: number;
  /** The start as the series' wall clock reads it. */
  readonly wall: string;
}

const HOUR = 3_600_000;

function vcalendar(c: Case, lines: readonly string[]): string {
  const time = (name: string, value: string) => {
    if (/^\d{8}$/.test(value)) return `${name};VALUE=DATE:${value}`;
    return c.zone === undefined ? `${name}:${value}` : `${name};TZID=${c.zone}:${value}`;
  };
  const zones = new Set([c.zone, ...lines.map((l) => /TZID=([^;:]+)/.exec(l)?.[1])]);
  return [
    'BEGIN:VCALENDAR',
    'VERSION:2.0',
    'PRODID:-//calpush tests//cross-check//EN',
    ...[...zones].flatMap((zone) => (zone === undefined ? [] : (VTIMEZONES[zone] ?? []))),
    'BEGIN:VEVENT',
    'UID:cross-check@calpush.test',
    'DTSTAMP:20260101T000000Z',
    time('DTSTART', c.start),
    time('DTEND', c.end),
    ...lines,
    'END:VEVENT',
    'END:VCALENDAR',
    '',
  ].join('\r\n');
}

const overlaps = (o: Instance, from: number, to: number) =>
  o.startAt < to && (o.endAt > from || (o.endAt === o.startAt && o.startAt >= from));

/**
 * One VEVENT per RRULE, each with every RDATE and EXDATE: ical.js 2.2.1 loses instances when a
 * VEVENT has two RRULEs (its RecurExpansion dropped the second rule's last ones), and the set
 * is the union of what each makes (RFC 5545 §3.8.5.3).
 */
function perRule(lines: readonly string[]): (readonly string[])[] {
  const rules = lines.filter((l) => l.startsWith('RRULE'));
  const rest = lines.filter((l) => !l.startsWith('RRULE'));
  return rules.length <= 1 ? [lines] : rules.map((rule) => [rule, ...rest]);
}

/** The series' instances in [from, to) by ical.js alone, with the stated RFC corrections. */
function icalJsInstances(c: Case, from: number, to: number): Instance[] {
  const found = new Map<number, Instance>();
  const deviations = new Map((c.icalJsWrong ?? []).map((d) => [d.wall, d]));
  let wallClockEnds = false;
  for (const lines of perRule(c.icalJsLines ?? c.lines)) {
    const root = new ICAL.Component(ICAL.parse(vcalendar(c, lines)) as unknown[]);
    const event = new ICAL.Event(root.getFirstSubcomponent('vevent') ?? undefined);
    const exactMs = event.duration.toSeconds() * 1000;
    // An RDATE in another zone is shown on the series' clock, as calpush shows it.
    const seriesZone = c.zone === undefined ? null : root.getTimeZoneByID(c.zone);
    const it = event.iterator();
    for (let next = it.next(); next; next = it.next()) {
      // Typed by hand: ical.js's d.ts names this type in a way the linter cannot resolve.
      const { startDate, endDate } = event.getOccurrenceDetails(next) as Occurrence;
      const shown =
        seriesZone && startDate.zone?.tzid !== c.zone
          ? startDate.convertToZone(seriesZone)
          : startDate;
      const wall = shown.toString().replace(/Z$/, '');
      let instance: Instance = {
        startAt: startDate.toUnixTime() * 1000,
        endAt: endDate.toUnixTime() * 1000,
        wall,
      };
      // The iterator runs in start order: a day past the window, nothing more can overlap it.
      if (instance.startAt >= to + 24 * HOUR) break;
      const deviation = deviations.get(wall);
      if (deviation) {
        deviations.delete(wall);
        const rfcStart = Date.parse(deviation.start);
        assert.notEqual(instance.startAt, rfcStart, `${wall}: ical.js now agrees, drop it`);
        const wallThen = deviation.start.slice(0, 19);
        instance = { startAt: rfcStart, endAt: Date.parse(deviation.end), wall: wallThen };
      } else if (c.exactEnds && instance.endAt !== instance.startAt + exactMs) {
        wallClockEnds = true;
        instance = { ...instance, endAt: instance.startAt + exactMs };
      }
      // RFC 5545 §3.8.5.2: an instance made twice is one instance.
      if (!found.has(instance.startAt)) found.set(instance.startAt, instance);
    }
  }
  assert.deepEqual([...deviations.keys()], [], 'every stated ical.js deviation was met');
  if (c.exactEnds) assert.ok(wallClockEnds, 'ical.js wall-clock ends were exercised');
  return [...found.values()]
    .filter((o) => overlaps(o, from, to))
    .sort((a, b) => a.startAt - b.startAt);
}

/** A Google start or end as calpush sends it: a date (UTC midnight) or RFC 3339. */
function instantOf(time: calendar_v3.Schema$EventDateTime | undefined): number {
  if (time?.date) return Date.parse(`${time.date}T00:00:00Z`);
  return Date.parse(time?.dateTime ?? '');
}

function googleTime(value: string, zone: string | undefined): calendar_v3.Schema$EventDateTime {
  const m = /^(\d{4})(\d{2})(\d{2})(?:T(\d{2})(\d{2})(\d{2})(Z?))?$/.exec(value);
  if (!m) throw new Error(`bad test time ${value}`);
  const date = `${m[1]}-${m[2]}-${m[3]}`;
  if (m[4] === undefined) return { date };
  const local = `${date}T${m[4]}:${m[5]}:${m[6]}`;
  return m[7] === 'Z' ? { dateTime: `${local}Z` } : { dateTime: local, timeZone: zone ?? null };
}

const show = (o: Instance) =>
  `${new Date(o.startAt).toISOString()} – ${new Date(o.endAt).toISOString()} (${o.wall})`;

/** `{seriesId}_{YYYYMMDDTHHMMSSZ}`, or `_{YYYYMMDD}` for an all-day series. */
function occurrenceId(seriesId: string, o: Instance, allDay: boolean): string {
  const stamp = allDay
    ? o.wall.replaceAll('-', '')
    : new Date(o.startAt)
        .toISOString()
        .replace(/\.000Z$/, 'Z')
        .replace(/[-:]/g, '');
  return `${seriesId}_${stamp}`;
}

describe('occurrences through the Google face equal those ical.js computes independently', () => {
  let h: Harness;
  let account: TestAccount;
  let api: ReturnType<typeof calendar>;
  const clock = new ManualClock(Date.parse('2026-12-06T08:00:00Z'));

  before(async () => {
    h = await startHarness({ listen: true, clock });
    account = await createTestAccount(h.service);
    const oauth = new auth.OAuth2();
    oauth.setCredentials({ access_token: account.accessToken });
    api = calendar({ version: 'v3', rootUrl: `${h.url}/`, auth: oauth });
  });
  after(async () => {
    await h.close();
  });

  async function listed(calendarId: string, timeMin: string, timeMax: string) {
    const items: calendar_v3.Schema$Event[] = [];
    let pageToken: string | undefined;
    do {
      // Small pages, so that paging through occurrences is part of what is checked.
      const { data } = await api.events.list({
        calendarId,
        singleEvents: true,
        orderBy: 'startTime',
        timeMin,
        timeMax,
        maxResults: 97,
        pageToken,
      });
      items.push(...(data.items ?? []));
      pageToken = data.nextPageToken ?? undefined;
    } while (pageToken);
    return items;
  }

  test('at least 30 series cover what the cross-check is for', () => {
    assert.ok(cases.length >= 30);
    assert.equal(new Set(cases.map((c) => c.label)).size, cases.length);
  });

  test('DTSTART off the rule: calpush counts it first, ical.js leaves it out', async () => {
    // RFC 5545 §3.8.5.3 calls this set undefined. calpush follows §3.3.10, "The DTSTART
    // property value always counts as the first occurrence": DTSTART and two Mondays. ical.js
    // (like dateutil) makes three Mondays and no DTSTART. Either is allowed; four is not.
    const c: Case = {
      label: 'A Wednesday start for a rule of three Mondays, UTC',
      start: '20270106T100000Z',
      end: '20270106T110000Z',
      lines: ['RRULE:FREQ=WEEKLY;BYDAY=MO;COUNT=3'],
      windows: [['2027-01-01T00:00:00Z', '2027-02-01T00:00:00Z']],
    };
    const [timeMin, timeMax] = c.windows[0]!;
    const byIcalJs = icalJsInstances(c, Date.parse(timeMin), Date.parse(timeMax));
    assert.deepEqual(
      byIcalJs.map((o) => o.wall),
      ['2027-01-11T10:00:00', '2027-01-18T10:00:00', '2027-01-25T10:00:00'],
    );
    const cal = await api.calendars.insert({ requestBody: { summary: c.label } });
    await api.events.insert({
      calendarId: cal.data.id!,
      requestBody: {
        summary: c.label,
        start: googleTime(c.start, c.zone),
        end: googleTime(c.end, c.zone),
        recurrence: [...c.lines],
      },
    });
    const items = await listed(cal.data.id!, timeMin, timeMax);
    assert.deepEqual(
      items.map((e) => e.start?.dateTime),
      ['2027-01-06T10:00:00Z', '2027-01-11T10:00:00Z', '2027-01-18T10:00:00Z'],
    );
  });

  for (const c of cases) {
    test(c.label, async () => {
      const cal = await api.calendars.insert({ requestBody: { summary: c.label } });
      const calendarId = cal.data.id!;
      const series = await api.events.insert({
        calendarId,
        requestBody: {
          summary: c.label,
          start: googleTime(c.start, c.zone),
          end: googleTime(c.end, c.zone),
          recurrence: [...c.lines],
        },
      });
      const seriesId = series.data.id!;
      const allDay = /^\d{8}$/.test(c.start);
      for (const [i, [timeMin, timeMax]] of c.windows.entries()) {
        const expected = icalJsInstances(c, Date.parse(timeMin), Date.parse(timeMax));
        const count = c.counts?.[i];
        if (count === undefined) assert.ok(expected.length > 0, 'the window holds occurrences');
        else assert.equal(expected.length, count, 'ical.js finds the stated count');
        if (i === 0 && c.dates) {
          assert.deepEqual(
            expected.map((o) => o.wall.slice(0, 10)),
            c.dates,
            'ical.js finds the stated dates',
          );
        }

        const items = await listed(calendarId, timeMin, timeMax);
        const got: Instance[] = items.map((e) => ({
          startAt: instantOf(e.start),
          endAt: instantOf(e.end),
          wall: e.start?.date ?? e.start?.dateTime?.slice(0, 19) ?? '',
        }));
        assert.deepEqual(got.map(show), expected.map(show), `window ${timeMin} – ${timeMax}`);
        assert.deepEqual(
          items.map((e) => [e.id, e.recurringEventId]),
          expected.map((o) => [occurrenceId(seriesId, o, allDay), seriesId]),
        );
      }
    });
  }
});
