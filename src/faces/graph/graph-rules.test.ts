import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ChangeFact } from '../../domain/change.ts';
import type { GraphInterest } from './interest.ts';
import { graphDialect } from './dialect.ts';
import { validationUrl } from './handshake.ts';
import { patternOf, rruleOf } from './recurrence-pattern.ts';
import { subscriptionExpiry } from './subscription-expiry.ts';
import { parseKind } from './notification-kinds.ts';
import { GraphError } from './errors.ts';

const interest = (over: Partial<GraphInterest> = {}): GraphInterest => ({
  dialect: 'graph',
  resource: 'me/events',
  accountId: 'acc_1',
  calendarId: null,
  changeTypes: ['created', 'updated', 'deleted'],
  lifecycleUrl: null,
  tlsVersion: 'v1_2',
  ...over,
});

const change = (over: Partial<ChangeFact> = {}): ChangeFact => ({
  resource: 'event',
  calendarId: 'cal_1',
  managed: false,
  resourceId: 'evt_1',
  ...over,
});

test('a change is planned per event and change type, the same object for every channel', () => {
  const created = change({ created: true });
  const a = graphDialect.planFor(interest(), created);
  const b = graphDialect.planFor(interest({ accountId: 'acc_1', resource: '/me/events' }), created);
  assert.equal(a?.kind, 'created Events/evt_1');
  assert.equal(a, b);
  assert.equal(graphDialect.planFor(interest(), change())?.kind, 'updated Events/evt_1');
  assert.equal(
    graphDialect.planFor(interest(), change({ removed: true }))?.kind,
    'deleted Events/evt_1',
  );
  assert.equal(graphDialect.planFor(interest({ changeTypes: ['deleted'] }), created), null);
  assert.equal(graphDialect.planFor(interest({ calendarId: 'cal_2' }), created), null);
  // A source's batch is recorded under its calendar: the collection is what changed.
  assert.equal(
    graphDialect.planFor(interest(), change({ resourceId: 'cal_1' }))?.kind,
    'updated Calendars/cal_1/Events',
  );
  assert.deepEqual(parseKind('created Events/evt_1'), {
    type: 'change',
    changeType: 'created',
    path: 'Events/evt_1',
  });
});

test('a deleted calendar removes the subscriptions limited to it, with a lifecycle URL', () => {
  const removed = change({ resource: 'calendar', resourceId: 'cal_1', removed: true });
  const scoped = interest({ calendarId: 'cal_1', lifecycleUrl: 'https://x/life' });
  assert.equal(graphDialect.planFor(scoped, removed)?.kind, 'lifecycle subscriptionRemoved');
  assert.equal(graphDialect.planFor({ ...scoped, lifecycleUrl: null }, removed), null);
  assert.equal(graphDialect.planFor(interest({ lifecycleUrl: 'https://x/life' }), removed), null);
  const disconnected = change({
    resource: 'profile',
    calendarId: null,
    resourceId: 'pro_1',
    profileEvent: 'disconnected',
  });
  assert.equal(
    graphDialect.planFor({ ...scoped, profileId: 'pro_1' }, disconnected)?.kind,
    'lifecycle subscriptionRemoved',
  );
  assert.equal(graphDialect.planFor({ ...scoped, profileId: 'pro_2' }, disconnected), null);
  assert.ok(graphDialect.isFarewell?.('lifecycle subscriptionRemoved'));
  assert.ok(!graphDialect.isFarewell?.('lifecycle missed'));
});

test('batches keep changes and lifecycle events apart', () => {
  const rule = graphDialect.batch;
  assert.ok(rule);
  assert.ok(rule.sameRequest('created Events/a', 'updated Events/b'));
  assert.ok(!rule.sameRequest('created Events/a', 'lifecycle missed'));
});

test('the validation token is appended to whatever query the URL has, encoded', () => {
  assert.equal(
    validationUrl('https://a/hook', 'a b:c'),
    'https://a/hook?validationToken=a%20b%3Ac',
  );
  assert.equal(validationUrl('https://a/hook?x=1#f', 't'), 'https://a/hook?x=1&validationToken=t');
});

test('expiry: raised to 45 minutes, refused past 10080 minutes or in the past', () => {
  const now = Date.UTC(2026, 0, 1);
  const at = (minutes: number) => new Date(now + minutes * 60_000).toISOString();
  assert.equal(subscriptionExpiry(at(10), now), now + 45 * 60_000);
  assert.equal(subscriptionExpiry(at(600), now), now + 600 * 60_000);
  assert.equal(subscriptionExpiry(at(10_080), now), now + 10_080 * 60_000);
  for (const bad of [at(10_081), at(-1), 'tomorrow']) {
    assert.throws(() => subscriptionExpiry(bad, now), GraphError);
  }
});

test('patternedRecurrence to RRULE and back', () => {
  const cases = [
    {
      pattern: { type: 'weekly' as const, interval: 2, daysOfWeek: ['monday', 'friday'] },
      range: { type: 'endDate' as const, startDate: '2026-01-05', endDate: '2026-03-01' },
      rrule: 'RRULE:FREQ=WEEKLY;BYDAY=MO,FR;INTERVAL=2;UNTIL=20260301T235959Z',
    },
    {
      pattern: {
        type: 'relativeMonthly' as const,
        interval: 1,
        daysOfWeek: ['tuesday'],
        index: 'last' as const,
      },
      range: { type: 'numbered' as const, startDate: '2026-01-27', numberOfOccurrences: 5 },
      rrule: 'RRULE:FREQ=MONTHLY;BYDAY=TU;BYSETPOS=-1;COUNT=5',
    },
    {
      pattern: { type: 'absoluteYearly' as const, interval: 1, month: 3, dayOfMonth: 14 },
      range: { type: 'noEnd' as const, startDate: '2026-03-14' },
      rrule: 'RRULE:FREQ=YEARLY;BYMONTH=3;BYMONTHDAY=14',
    },
  ];
  for (const c of cases) {
    const rrule = rruleOf({ pattern: c.pattern, range: c.range }, false);
    assert.equal(rrule, c.rrule);
    const back = patternOf([rrule], c.range.startDate, 'UTC');
    assert.equal(back?.pattern.type, c.pattern.type);
    assert.equal(back?.pattern.interval, c.pattern.interval);
    assert.equal(back?.range.type, c.range.type);
  }
  assert.equal(patternOf(['RRULE:FREQ=MONTHLY;BYDAY=2MO'], '2026-01-12', 'UTC'), null);
  assert.throws(
    () => rruleOf({ pattern: { type: 'weekly', interval: 1 }, range: { type: 'noEnd' } }, false),
    GraphError,
  );
});
