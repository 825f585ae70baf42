import ICAL from 'ical.js';
import { ruleStarts } from './rule-starts.ts';

/**
 * A rule whose starts repeat every period on the wall clock: a DAILY rule with no BYxxx
 * part, or a WEEKLY rule with none but BYDAY weekdays, and no COUNT. Past its first period
 * (which starts at the series' start, not on a period boundary) every period holds the same
 * starts at the same offsets, so once ical.js has walked two periods, a walk to a window
 * years later is arithmetic. recurrence.ts uses it where it skips whole periods anyway.
 */
export interface Cycle {
  /** The period on the floating clock (wall times as if UTC), in ms. */
  readonly period: number;
  /** The starts of one period, as offsets from its beginning, ascending. */
  readonly offsets: readonly number[];
  /** UNTIL on the floating clock; Infinity without one. */
  readonly until: number;
}

const DAY = 86_400_000;
/** Steps ical.js may take while learning a cycle (two periods need a handful). */
const LEARNING_STEPS = 1000;

/** A DAILY or WEEKLY rule's period on the floating clock; null for other frequencies. */
export function periodOf(rule: ICAL.Recur): number | null {
  const interval = Math.max(1, rule.interval || 1);
  if (rule.freq === 'DAILY') return interval * DAY;
  if (rule.freq === 'WEEKLY') return 7 * interval * DAY;
  return null;
}

/**
 * Rule parts whose starts repeat every period, by frequency. BYHOUR and its kin would too,
 * but ical.js does not walk a list given out of order the same way in every period.
 */
const cyclicParts: Readonly<Record<string, readonly string[]>> = { DAILY: [], WEEKLY: ['BYDAY'] };
const plainWeekday = /^(?:SU|MO|TU|WE|TH|FR|SA)$/;

/**
 * Each rule's cycle, learnt on first use. A parsed rule belongs to one parsed series, kept by
 * its text in recurrence.ts, so it always comes with the same start, and goes with it.
 */
const cycles = new WeakMap<ICAL.Recur, Cycle | null>();

/** The cycle of a rule walked from `start` (the series' floating start), or null. */
export function cycleOf(rule: ICAL.Recur, start: ICAL.Time): Cycle | null {
  let cycle = cycles.get(rule);
  if (cycle === undefined) {
    cycle = learnCycle(rule, start);
    cycles.set(rule, cycle);
  }
  return cycle;
}

const floating = (t: ICAL.Time) => Date.UTC(t.year, t.month - 1, t.day, t.hour, t.minute, t.second);

/**
 * UNTIL as ical.js compares it with a floating start: by its fields, as if UTC. Only UTC
 * and floating UNTILs are read that way (recurrence.ts makes a zoned series' UTC UNTIL
 * floating); null for any other.
 */
function floatingUntil(rule: ICAL.Recur): number | null {
  const until = rule.until;
  if (!until) return Infinity;
  const zone = until.zone;
  if (zone !== ICAL.Timezone.utcTimezone && zone !== ICAL.Timezone.localTimezone) return null;
  return until.toUnixTime() * 1000;
}

/**
 * The offsets ical.js gives in the series' second period, checked against its third: the
 * check guards the premise that every period after the first is the same. Null when the rule
 * is not of the kind above, or ends before its third period is whole.
 */
function learnCycle(rule: ICAL.Recur, start: ICAL.Time): Cycle | null {
  const period = periodOf(rule);
  const allowed = cyclicParts[rule.freq];
  const until = floatingUntil(rule);
  if (period === null || allowed === undefined || until === null || rule.count !== null) {
    return null;
  }
  for (const [part, values] of Object.entries(rule.parts)) {
    if (!allowed.includes(part)) return null;
    if (!(values as unknown[]).every((v) => plainWeekday.test(String(v)))) return null;
  }
  const second = floating(start) + period;
  const periods: [number[], number[]] = [[], []];
  // The iterator may move the time it is given: it gets its own.
  const it = ruleStarts(rule, start.clone());
  for (let step = 0; ; step++) {
    const next = step < LEARNING_STEPS ? it.next() : null;
    if (!next) return null;
    const offset = floating(next) - second;
    if (offset >= 2 * period) break;
    if (offset >= 0) periods[offset < period ? 0 : 1].push(offset % period);
  }
  const [offsets, again] = periods;
  const same = offsets.length === again.length && offsets.every((o, i) => o === again[i]);
  return same && offsets.length > 0 ? { period, offsets, until } : null;
}

/**
 * The floating times a cycle makes from `first`, the beginning of a period after the first
 * one, up to and including the first at or after `end`, and none after UNTIL: what ical.js
 * gives when walking the rule from `first`, but for `first` itself where it is no start.
 */
export function* cycleWalls(cycle: Cycle, first: number, end: number): Generator<number> {
  const { period, offsets, until } = cycle;
  for (let base = first; ; base += period) {
    for (const offset of offsets) {
      const wall = base + offset;
      if (wall > until) return;
      yield wall;
      if (wall >= end) return;
    }
  }
}
