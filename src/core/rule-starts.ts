import ICAL from 'ical.js';

/**
 * The starts one rule makes: ical.js's iterator, put right where ical.js 2.2.1 departs from
 * RFC 5545 §3.3.10 for YEARLY rules. Each correction has ical.js walk a broader rule without
 * COUNT and keeps the starts the rule asks for, counting COUNT here.
 * - Dates a year lacks. With a month and a day of the month (BYMONTH and BYMONTHDAY, or
 *   DTSTART's), ical.js rolls a day the month lacks over into the next month: February 29
 *   becomes March 1 in 2027, January 31 with BYMONTH=1,2,3 makes March 3. The RFC says such
 *   dates "MUST be ignored and MUST NOT be counted".
 * - BYWEEKNO with BYDAY. ical.js keeps the days that are *not* in the first week listed
 *   (recur_iterator.js: `if (this.by_data.BYWEEKNO.indexOf(weekno))`), so the RFC's "Monday of
 *   week number 20" is every other Monday. It walks the weekdays of the whole year instead,
 *   and the weeks are picked here. Left as ical.js has them: BYWEEKNO without BYDAY (ical.js
 *   makes nothing), and with INTERVAL above 1 or other BY-parts, where a week 1 that begins
 *   in December belongs to the next year's turn.
 */

/**
 * Starts in a row that may be dropped before the rule is taken to make no more: a date that
 * exists comes back within 8 years (February 29 around 2100), a week 53 within 7 (every day of
 * 7 years is under 2,600 starts). A rule that asks only for dates that never exist (February
 * 30) then makes nothing rather than loop for ever.
 */
const MAX_SKIPPED = 3000;

export interface RuleStarts {
  next(): ICAL.Time | null;
}

interface Correction {
  /** The broader rule ical.js walks, without COUNT. */
  readonly walked: ICAL.Recur;
  readonly keep: (t: ICAL.Time) => boolean;
}

function openCopy(rule: ICAL.Recur): ICAL.Recur {
  const copy = rule.clone();
  copy.count = null;
  return copy;
}

function monthDays(rule: ICAL.Recur, start: ICAL.Time): Correction | null {
  const { BYMONTH, BYMONTHDAY, BYDAY, BYYEARDAY, BYWEEKNO, BYSETPOS } = rule.parts;
  if (BYDAY || BYYEARDAY || BYWEEKNO || BYSETPOS) return null;
  // Days of the month without months are read differently from library to library: as is.
  if (BYMONTHDAY && !BYMONTH) return null;
  const days = BYMONTHDAY ?? [start.day];
  // Every month has days 1–28 (and the 28th from the end): nothing can roll over.
  if (days.every((d) => Math.abs(d) <= 28)) return null;
  const months = new Set(BYMONTH ?? [start.month]);
  return {
    walked: openCopy(rule),
    keep: (t) => {
      if (!months.has(t.month)) return false;
      const length = ICAL.Time.daysInMonth(t.month, t.year);
      return days.some((d) => (d > 0 ? d : length + 1 + d) === t.day);
    },
  };
}

const DAY_MS = 86_400_000;

/** The day a date's week begins, as days since 1970 (`wkst`: ical.js's, Sunday = 1). */
function weekStartDay(year: number, month: number, day: number, wkst: number): number {
  const days = Date.UTC(year, month - 1, day) / DAY_MS;
  // 1 January 1970 was a Thursday: JavaScript's day 4, ical.js's 5.
  const weekday = (((days + 4) % 7) + 7) % 7;
  return days - ((weekday - (wkst - 1) + 7) % 7);
}

/**
 * RFC 5545 §3.3.10: week 1 is the first week with at least four days of the year, so it is
 * the week of January 4th. Computed here, not with ICAL.Time#weekNumber: that caches by date
 * alone what it computes for a time in a zone, and one zoned walk in the process (check_
 * contracting_rules asks on every step) leaves wrong weeks behind for everyone.
 */
function weekOf(t: ICAL.Time, wkst: number): { week: number; weeks: number } {
  const start = weekStartDay(t.year, t.month, t.day, wkst);
  // The week belongs to the year that holds its fourth day.
  const year = new Date((start + 3) * DAY_MS).getUTCFullYear();
  const first = weekStartDay(year, 1, 4, wkst);
  const next = weekStartDay(year + 1, 1, 4, wkst);
  return { week: (start - first) / 7 + 1, weeks: (next - first) / 7 };
}

function weekNumbers(rule: ICAL.Recur): Correction | null {
  const { BYWEEKNO, BYDAY, BYMONTH, BYMONTHDAY, BYYEARDAY, BYSETPOS } = rule.parts;
  if (!BYWEEKNO || !BYDAY || BYMONTH || BYMONTHDAY || BYYEARDAY || BYSETPOS) return null;
  if ((rule.interval || 1) !== 1 || BYDAY.some((d) => !/^[A-Z]{2}$/.test(d))) return null;
  const wkst = rule.wkst;
  const walked = openCopy(rule);
  delete walked.parts.BYWEEKNO;
  return {
    walked,
    keep: (t) => {
      const { week, weeks } = weekOf(t, wkst);
      return BYWEEKNO.some((w) => (w > 0 ? w : weeks + 1 + w) === week);
    },
  };
}

export function ruleStarts(rule: ICAL.Recur, start: ICAL.Time): RuleStarts {
  const correction = rule.freq === 'YEARLY' ? (monthDays(rule, start) ?? weekNumbers(rule)) : null;
  if (correction === null) return rule.iterator(start);
  const it = correction.walked.iterator(start);
  let left = rule.count ?? Infinity;
  return {
    next() {
      for (let skipped = 0; left > 0 && skipped < MAX_SKIPPED; skipped++) {
        const t = it.next();
        if (!t) return null;
        if (!correction.keep(t)) continue;
        left--;
        return t;
      }
      return null;
    },
  };
}
