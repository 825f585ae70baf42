import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Harness, TestAccount } from './support/harness.ts';
import { createTestAccount, startHarness } from './support/harness.ts';
import { engines } from './support/postgres.ts';
import { ManualClock } from '../src/domain/clock.ts';
import type { EventFields } from '../src/core/events.ts';
import { deleteEvent, insertEvent, latestSeq, updateEvent } from '../src/core/events.ts';
import type { InstanceFilter } from '../src/core/instances.ts';
import { countInstances, listInstances } from '../src/core/instances.ts';

/** A page count is only right if the count lists what the listing lists, read for read. */

const at = (iso: string) => Date.parse(iso);

function fields(start: string, end: string, extra: Partial<EventFields> = {}): EventFields {
  const time = (t: string) =>
    t.length === 10
      ? { date: t }
      : t.endsWith('Z')
        ? { dateTime: t }
        : { dateTime: t, timeZone: 'Europe/Paris' };
  return {
    summary: 'x',
    description: null,
    location: null,
    start: time(start),
    end: time(end),
    ...extra,
  };
}

for (const engine of engines) {
  describe(`countInstances on ${engine} agrees with listInstances`, () => {
    let h: Harness;
    let account: TestAccount;
    const clock = new ManualClock(at('2026-12-06T08:00:00Z'));

    before(async () => {
      h = await startHarness({ clock, engine });
      account = await createTestAccount(h.service);
    });
    after(() => h.close());

    const target = () => ({ accountId: account.accountId, calendarId: account.calendarId });
    const insert = async (f: EventFields) => (await insertEvent(h.service.core, target(), f)).uid;
    const patch = (uid: string, change: Partial<EventFields>) =>
      updateEvent(h.service.core, target(), uid, (current) => ({ ...current, ...change }));

    async function agree(label: string, read: Partial<InstanceFilter>): Promise<number> {
      const q: InstanceFilter = {
        accountId: account.accountId,
        calendarIds: [account.calendarId],
        includeDeleted: false,
        managed: 'include',
        now: clock.now(),
        ...read,
      };
      const { rows, more } = await listInstances(h.service.core, { ...q, limit: 100_000 });
      assert.equal(more, false);
      assert.equal(await countInstances(h.service.core, q), rows.length, label);
      // Counted again from the kept per-series counts: the same answer.
      assert.equal(await countInstances(h.service.core, q), rows.length, `${label} (again)`);
      return rows.length;
    }

    test('windows, exceptions, deletions, changed-only and single-series reads', async () => {
      const daily = await insert(
        fields('2026-11-01T09:00:00', '2026-11-01T09:30:00', {
          recurrence: ['RRULE:FREQ=DAILY', 'EXDATE;TZID=Europe/Paris:20261210T090000'],
        }),
      );
      const weekly = await insert(
        fields('2026-12-01T10:00:00Z', '2026-12-01T12:00:00Z', {
          recurrence: ['RRULE:FREQ=WEEKLY;COUNT=10'],
        }),
      );
      // Zero-length occurrences: one starting exactly at a window's start is in it.
      await insert(
        fields('2026-12-01T00:00:00Z', '2026-12-01T00:00:00Z', {
          recurrence: ['RRULE:FREQ=DAILY;COUNT=40'],
        }),
      );
      await insert(fields('2025-03-14', '2025-03-15', { recurrence: ['RRULE:FREQ=YEARLY'] }));
      await insert(fields('2026-12-20T15:00:00Z', '2026-12-20T16:00:00Z'));
      await insert(fields('2026-12-01', '2026-12-02'));
      const gone = await insert(
        fields('2026-12-02T07:00:00Z', '2026-12-02T08:00:00Z', {
          recurrence: ['RRULE:FREQ=DAILY;COUNT=20'],
        }),
      );
      await patch(`${gone}_20261205T070000Z`, { summary: 'changed, then its series went' });
      await deleteEvent(h.service.core, target(), gone);

      const before = await latestSeq(h.service.core, account.accountId);
      clock.advance(60_000);
      const changedAt = clock.now();
      // Moved inside the window, moved out of it, moved in from outside, and cancelled.
      await patch(
        `${daily}_20261203T080000Z`,
        fields('2026-12-03T18:00:00Z', '2026-12-03T19:00:00Z'),
      );
      await patch(
        `${daily}_20261204T080000Z`,
        fields('2027-03-01T18:00:00Z', '2027-03-01T19:00:00Z'),
      );
      await patch(
        `${daily}_20270301T080000Z`,
        fields('2026-12-04T18:00:00Z', '2026-12-04T19:00:00Z'),
      );
      await deleteEvent(h.service.core, target(), `${daily}_20261206T080000Z`);
      await patch(`${weekly}_20261208T100000Z`, { summary: 'weekly, changed' });

      const december = { from: at('2026-12-01T00:00:00Z'), to: at('2027-01-01T00:00:00Z') };
      const reads: [string, Partial<InstanceFilter>][] = [
        ['december', december],
        ['december with deleted', { ...december, includeDeleted: true }],
        [
          'a window starting as an occurrence ends',
          { from: at('2026-12-01T08:30:00Z'), to: at('2026-12-02T00:00:00Z') },
        ],
        [
          'a window cutting through occurrences',
          { from: at('2026-12-08T11:00:00Z'), to: at('2026-12-15T11:00:00Z') },
        ],
        ['a long window', { from: at('2026-10-01T00:00:00Z'), to: at('2028-01-01T00:00:00Z') }],
        ['no bounds (to the horizon)', {}],
        ['changed since a time', { ...december, modifiedSince: changedAt }],
        [
          'changed since a time, with deleted',
          { ...december, modifiedSince: changedAt, includeDeleted: true },
        ],
        ['changed after a sequence number', { afterSeq: before, includeDeleted: true }],
        ['one series', { ...december, seriesUid: daily, includeDeleted: true }],
        ['one occurrence', { seriesUid: daily, originalStartAt: at('2026-12-05T08:00:00Z') }],
        [
          'one replaced occurrence',
          { seriesUid: daily, originalStartAt: at('2026-12-03T08:00:00Z') },
        ],
        ['managed only', { ...december, managed: 'only' }],
      ];
      let total = 0;
      for (const [label, read] of reads) total += await agree(label, read);
      assert.ok(total > 200, 'the reads list instances at all');
    });

    test('a changed series is counted afresh', async () => {
      const december = { from: at('2026-12-01T00:00:00Z'), to: at('2027-01-01T00:00:00Z') };
      const first = await agree('before', december);
      const series = await insert(
        fields('2026-12-01T13:00:00Z', '2026-12-01T14:00:00Z', {
          recurrence: ['RRULE:FREQ=DAILY;COUNT=5'],
        }),
      );
      assert.equal(await agree('with a new series', december), first + 5);
      await patch(series, { recurrence: ['RRULE:FREQ=DAILY;COUNT=12'] });
      assert.equal(await agree('with a longer series', december), first + 12);
    });
  });
}
