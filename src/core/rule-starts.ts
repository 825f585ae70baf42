import ICAL from 'ical.js';

/**
 * The starts one rule makes: ical.js's iterator, put right where ical.js 2.2.1 departs from
 * RFC 5545 §3.3.10. A YEARLY rule whose dates are a month and a day of the month (BYMONTH and
 * BYMONTHDAY, or DTSTART's month and day) rolls a day the month lacks over into the next month:
 * February 29 becomes March 1 in 2027, January 31 with BYMONTH=1,2,3 makes March 3. The RFC
 * says such dates "MUST be ignored and MUST NOT be counted", so they are dropped here, and COUNT
 * is counted here instead of by ical.js (which counts them).
 */

/** Dates in a row that may be dropped before the rule is taken to make no more. */
const MAX_SKIPPED = 100;

export interface RuleStarts {
  next(): ICAL.Time | null;
}

/** A YEARLY rule's test for the dates it may make; null when ical.js needs no help. */
function monthDayTest(rule: ICAL.Recur, start: ICAL.Time): ((t: ICAL.Time) => boolean) | null {
  const { BYMONTH, BYMONTHDAY, BYDAY, BYYEARDAY, BYWEEKNO, BYSETPOS } = rule.parts;
  if (rule.freq !== 'YEARLY' || BYDAY || BYYEARDAY || BYWEEKNO || BYSETPOS) return null;
  // Days of the month without months are read differently from library to library: as is.
  if (BYMONTHDAY && !BYMONTH) return null;
  const days = BYMONTHDAY ?? [start.day];
  // Every month has days 1–28 (and the 28th from the end): nothing can roll over.
  if (days.every((d) => Math.abs(d) <= 28)) return null;
  const months = new Set(BYMONTH ?? [start.month]);
  return (t) => {
    if (!months.has(t.month)) return false;
    const length = ICAL.Time.daysInMonth(t.month, t.year);
    return days.some((d) => (d > 0 ? d : length + 1 + d) === t.day);
  };
}

export function ruleStarts(rule: ICAL.Recur, start: ICAL.Time): RuleStarts {
  const valid = monthDayTest(rule, start);
  if (valid === null) return rule.iterator(start);
  const open = rule.clone();
  open.count = null;
  const it = open.iterator(start);
  let left = rule.count ?? Infinity;
  return {
    next() {
      // A date that exists comes within 8 years (February 29 around 2100); a rule that asks
      // only for dates that never do (February 30) makes nothing rather than loop for ever.
      for (let skipped = 0; left > 0 && skipped < MAX_SKIPPED; skipped++) {
        const t = it.next();
        if (!t) return null;
        if (!valid(t)) continue;
        left--;
        return t;
      }
      return null;
    },
  };
}
