import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import Cronofy from 'cronofy';
import type { Harness, TestAccount } from './support/harness.ts';
import { createTestAccount, startHarness } from './support/harness.ts';
import { Receiver } from './support/receiver.ts';
import { callApi } from './support/api.ts';
import { engines } from './support/postgres.ts';
import { ManualClock } from '../src/domain/clock.ts';

/**
 * Recurring events read through the official cronofy SDK: each occurrence is an event of its
 * own, in start order, sharing its series' `series_identifier`. Series and exceptions are
 * made through the Google face of the same account, the way a client would make them.
 */

interface CronofyEvent {
  calendar_id: string;
  event_uid: string;
  summary: string;
  start: string;
  end: string;
  deleted: boolean;
  recurring: boolean;
  series_identifier?: string;
}

interface Pages {
  current: number;
  total: number;
  next_page?: string;
}

interface EventsPage {
  pages: Pages;
  events: CronofyEvent[];
}

/** After a delivery, a channel's next notification waits this long (CALPUSH_MIN_INTERVAL_MS). */
const QUIET = 250;
const MINUTE = 60_000;

/** An instant as Cronofy prints it: UTC, whole seconds. */
const cronofyTime = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

const parisClock = new Intl.DateTimeFormat('en-GB', {
  timeZone: 'Europe/Paris',
  hour: '2-digit',
  minute: '2-digit',
  hourCycle: 'h23',
});

for (const engine of engines) {
  describe(`recurring events on ${engine} through the official cronofy SDK`, () => {
    let h: Harness;
    let receiver: Receiver;
    let account: TestAccount;
    let sdk: Cronofy;
    const clock = new ManualClock(Date.parse('2026-12-06T08:00:00Z'));

    before(async () => {
      h = await startHarness({
        listen: true,
        clock,
        engine,
        env: { CALPUSH_MIN_INTERVAL_MS: String(QUIET) },
      });
      receiver = await Receiver.start();
      account = await createTestAccount(h.service);
      sdk = new Cronofy({
        client_id: account.clientId,
        client_secret: account.clientSecret,
        access_token: account.accessToken,
      });
      sdk.urls.api = h.url;
    });
    after(async () => {
      await h.close();
      await receiver.close();
    });

    /** A Google-face request that must succeed; its JSON body. */
    async function google<J>(method: string, path: string, body?: unknown): Promise<J> {
      const { status, json } = await callApi<J>(
        h.service,
        account.accessToken,
        method,
        `/calendar/v3${path}`,
        body,
      );
      assert.ok(status === 200 || status === 204, `${method} ${path}: ${status}`);
      return json;
    }

    async function newCalendar(summary: string): Promise<string> {
      return (await google<{ id: string }>('POST', '/calendars', { summary })).id;
    }

    async function insertEvent(calendarId: string, event: object): Promise<string> {
      return (await google<{ id: string }>('POST', `/calendars/${calendarId}/events`, event)).id;
    }

    const read = async (options: Record<string, unknown>) =>
      (await sdk.readEvents(options)) as EventsPage;

    /** Every page of a read, following `next_page` as a client does. */
    async function readAll(options: Record<string, unknown>) {
      const pages: Pages[] = [];
      const events: CronofyEvent[] = [];
      let page = await read(options);
      for (;;) {
        pages.push(page.pages);
        events.push(...page.events);
        if (!page.pages.next_page) return { pages, events };
        page = await read({ next_page: page.pages.next_page, tzid: options.tzid });
      }
    }

    test('a weekly Paris series stays at 09:00 local across both daylight-saving changes', async () => {
      const calendarId = await newCalendar('Stand-ups');
      const seriesId = await insertEvent(calendarId, {
        summary: 'Stand-up',
        start: { dateTime: '2026-10-19T09:00:00', timeZone: 'Europe/Paris' },
        end: { dateTime: '2026-10-19T09:15:00', timeZone: 'Europe/Paris' },
        recurrence: ['RRULE:FREQ=WEEKLY;BYDAY=MO;UNTIL=20270405T070000Z'],
      });
      const singleId = await insertEvent(calendarId, {
        summary: 'Retro',
        start: { dateTime: '2026-11-04T15:00:00Z' },
        end: { dateTime: '2026-11-04T16:00:00Z' },
      });
      const page = await read({
        tzid: 'Europe/Paris',
        from: '2026-10-01',
        to: '2027-05-01',
        calendar_ids: [calendarId],
      });
      assert.equal(page.pages.total, 2);
      assert.ok(page.pages.next_page);
      const { events } = await readAll({
        tzid: 'Europe/Paris',
        from: '2026-10-01',
        to: '2027-05-01',
        calendar_ids: [calendarId],
      });
      const occurrences = events.filter((e) => e.event_uid !== singleId);
      assert.equal(occurrences.length, 25);
      for (const e of occurrences) {
        assert.equal(parisClock.format(new Date(e.start)), '09:00', e.start);
        assert.equal(Date.parse(e.end) - Date.parse(e.start), 15 * MINUTE);
        assert.equal(e.recurring, true);
        assert.equal(e.series_identifier, seriesId);
        assert.equal(e.summary, 'Stand-up');
        assert.equal(e.deleted, false);
      }
      // Summer time (UTC+2) before 25 October and from 28 March, winter time (UTC+1) between.
      const starts = new Map(occurrences.map((e) => [e.start.slice(0, 10), e]));
      assert.equal(starts.get('2026-10-19')?.start, '2026-10-19T07:00:00Z');
      assert.equal(starts.get('2026-10-19')?.event_uid, `${seriesId}_20261019T070000Z`);
      assert.equal(starts.get('2026-10-26')?.start, '2026-10-26T08:00:00Z');
      assert.equal(starts.get('2026-10-26')?.end, '2026-10-26T08:15:00Z');
      assert.equal(starts.get('2027-03-22')?.start, '2027-03-22T08:00:00Z');
      assert.equal(starts.get('2027-03-29')?.start, '2027-03-29T07:00:00Z');
      assert.equal(occurrences.at(-1)?.event_uid, `${seriesId}_20270405T070000Z`);
      // The single event sits in its place in start order, and belongs to no series.
      const single = events.find((e) => e.event_uid === singleId);
      assert.equal(single?.recurring, false);
      assert.ok(single && !('series_identifier' in single));
      assert.equal(events[3]?.event_uid, singleId);
    });

    test('a series that never ends is read as the occurrences inside the window', async () => {
      const calendarId = await newCalendar('Daily');
      const seriesId = await insertEvent(calendarId, {
        summary: 'Daily',
        start: { dateTime: '2020-01-01T08:00:00', timeZone: 'Europe/Paris' },
        end: { dateTime: '2020-01-01T08:10:00', timeZone: 'Europe/Paris' },
        recurrence: ['RRULE:FREQ=DAILY'],
      });
      const page = await read({
        tzid: 'Europe/Paris',
        from: '2027-01-01',
        to: '2027-01-08',
        calendar_ids: [calendarId],
      });
      assert.deepEqual(page.pages, { current: 1, total: 1 });
      assert.deepEqual(
        page.events.map((e) => [e.event_uid, e.start, e.end]),
        [1, 2, 3, 4, 5, 6, 7].map((d) => {
          const day = `2027-01-0${d}`;
          return [
            `${seriesId}_${day.replaceAll('-', '')}T070000Z`,
            `${day}T07:00:00Z`,
            `${day}T07:10:00Z`,
          ];
        }),
      );
    });

    test('a moved occurrence is an event in its new place; a cancelled one is deleted', async () => {
      const calendarId = await newCalendar('One-to-ones');
      const seriesId = await insertEvent(calendarId, {
        summary: 'One-to-one',
        start: { dateTime: '2026-12-07T10:00:00', timeZone: 'Europe/Paris' },
        end: { dateTime: '2026-12-07T10:30:00', timeZone: 'Europe/Paris' },
        recurrence: ['RRULE:FREQ=WEEKLY'],
      });
      const moved = `${seriesId}_20261214T090000Z`;
      const cancelled = `${seriesId}_20261221T090000Z`;
      await google('PATCH', `/calendars/${calendarId}/events/${moved}`, {
        summary: 'One-to-one (moved)',
        start: { dateTime: '2026-12-15T14:00:00', timeZone: 'Europe/Paris' },
        end: { dateTime: '2026-12-15T14:30:00', timeZone: 'Europe/Paris' },
      });
      await google('DELETE', `/calendars/${calendarId}/events/${cancelled}`);
      const window = {
        tzid: 'Europe/Paris',
        from: '2026-12-01',
        to: '2027-01-01',
        calendar_ids: [calendarId],
      };

      const live = await read(window);
      assert.deepEqual(live.pages, { current: 1, total: 1 });
      assert.deepEqual(
        live.events.map((e) => [e.event_uid, e.start, e.summary, e.deleted]),
        [
          [`${seriesId}_20261207T090000Z`, '2026-12-07T09:00:00Z', 'One-to-one', false],
          [moved, '2026-12-15T13:00:00Z', 'One-to-one (moved)', false],
          [`${seriesId}_20261228T090000Z`, '2026-12-28T09:00:00Z', 'One-to-one', false],
        ],
      );
      assert.ok(live.events.every((e) => e.recurring && e.series_identifier === seriesId));

      const all = await read({ ...window, include_deleted: true });
      assert.deepEqual(
        all.events.map((e) => [e.event_uid, e.start, e.deleted]),
        [
          [`${seriesId}_20261207T090000Z`, '2026-12-07T09:00:00Z', false],
          [moved, '2026-12-15T13:00:00Z', false],
          [cancelled, '2026-12-21T09:00:00Z', true],
          [`${seriesId}_20261228T090000Z`, '2026-12-28T09:00:00Z', false],
        ],
      );
      const gone = all.events.find((e) => e.event_uid === cancelled);
      assert.equal(gone?.recurring, true);
      assert.equal(gone?.series_identifier, seriesId);
    });

    test('paging runs in start order across series and single events, with the right total', async () => {
      const calendarId = await newCalendar('Busy');
      const daily = await insertEvent(calendarId, {
        summary: 'Daily',
        start: { dateTime: '2026-12-01T10:00:00Z' },
        end: { dateTime: '2026-12-01T10:30:00Z' },
        recurrence: ['RRULE:FREQ=DAILY;COUNT=60'],
      });
      // Mondays at 10:00 too: ties on start are ordered by event_uid, across pages.
      const weekly = await insertEvent(calendarId, {
        summary: 'Weekly',
        start: { dateTime: '2026-11-02T10:00:00Z' },
        end: { dateTime: '2026-11-02T11:00:00Z' },
        recurrence: ['RRULE:FREQ=WEEKLY;BYDAY=MO'],
      });
      for (const day of [2, 5, 9, 12, 16, 19, 23, 26]) {
        await insertEvent(calendarId, {
          summary: `Single ${day}`,
          start: { date: `2026-12-${String(day).padStart(2, '0')}` },
          end: { date: `2026-12-${String(day + 1).padStart(2, '0')}` },
        });
      }
      await google('DELETE', `/calendars/${calendarId}/events/${daily}_20261203T100000Z`);
      await google('PATCH', `/calendars/${calendarId}/events/${daily}_20261204T100000Z`, {
        start: { dateTime: '2027-01-29T23:00:00Z' },
        end: { dateTime: '2027-01-29T23:30:00Z' },
      });
      const window = {
        tzid: 'Etc/UTC',
        from: '2026-12-01',
        to: '2027-01-30',
        calendar_ids: [calendarId],
      };
      // 60 daily (one moved, one cancelled), 8 Mondays, 8 single events: 75 live (3 pages),
      // 76 with the cancelled one (4 pages). A count that missed either exception is a page off.
      for (const [includeDeleted, expected, total] of [
        [false, 75, 3],
        [true, 76, 4],
      ] as const) {
        const { pages, events } = await readAll({ ...window, include_deleted: includeDeleted });
        assert.equal(events.length, expected);
        assert.deepEqual(
          pages.map((p) => [p.current, p.total]),
          Array.from({ length: total }, (_, i) => [i + 1, total]),
        );
        assert.ok(!('next_page' in pages[total - 1]!));
        assert.equal(new Set(events.map((e) => e.event_uid)).size, expected, 'no duplicates');
        // An all-day event's date parses as midnight UTC: where the window's zone puts it.
        const at = (e: CronofyEvent) => Date.parse(e.start);
        const ordered = events.toSorted(
          (a, b) => at(a) - at(b) || (a.event_uid < b.event_uid ? -1 : 1),
        );
        assert.deepEqual(
          events.map((e) => e.event_uid),
          ordered.map((e) => e.event_uid),
        );
        assert.equal(events.filter((e) => e.series_identifier === weekly).length, 8);
        assert.equal(events.at(-1)?.event_uid, `${daily}_20261204T100000Z`);
        assert.equal(events.at(-1)?.start, '2027-01-29T23:00:00Z');
      }
    });

    test('last_modified returns the occurrence an exception changed, then a deleted series', async () => {
      const calendarId = await newCalendar('Office hours');
      const seriesId = await insertEvent(calendarId, {
        summary: 'Office hours',
        start: { dateTime: '2026-12-08T16:00:00Z' },
        end: { dateTime: '2026-12-08T17:00:00Z' },
        recurrence: ['RRULE:FREQ=WEEKLY;COUNT=4'],
      });
      let changedAt = '';
      const since = async (options: Record<string, unknown> = {}) => {
        const page = await read({
          tzid: 'Etc/UTC',
          calendar_ids: [calendarId],
          last_modified: changedAt,
          ...options,
        });
        return page.events.map((e) => [e.event_uid, e.summary, e.deleted]);
      };

      clock.advance(MINUTE);
      changedAt = cronofyTime(clock.now());
      await google('PATCH', `/calendars/${calendarId}/events/${seriesId}_20261215T160000Z`, {
        summary: 'Office hours (room 2)',
      });
      assert.deepEqual(await since(), [
        [`${seriesId}_20261215T160000Z`, 'Office hours (room 2)', false],
      ]);

      clock.advance(MINUTE);
      changedAt = cronofyTime(clock.now());
      await google('DELETE', `/calendars/${calendarId}/events/${seriesId}_20261222T160000Z`);
      assert.deepEqual(await since(), []);
      assert.deepEqual(await since({ include_deleted: true }), [
        [`${seriesId}_20261222T160000Z`, 'Office hours', true],
      ]);

      // The series deleted: each of its occurrences is deleted, the exceptions in their places.
      clock.advance(MINUTE);
      changedAt = cronofyTime(clock.now());
      await google('DELETE', `/calendars/${calendarId}/events/${seriesId}`);
      assert.deepEqual(await since(), []);
      const page = await read({
        tzid: 'Etc/UTC',
        calendar_ids: [calendarId],
        last_modified: changedAt,
        include_deleted: true,
      });
      assert.deepEqual(page.pages, { current: 1, total: 1 });
      assert.deepEqual(
        page.events.map((e) => [e.event_uid, e.deleted, e.series_identifier]),
        ['20261208', '20261215', '20261222', '20261229'].map((day) => [
          `${seriesId}_${day}T160000Z`,
          true,
          seriesId,
        ]),
      );
    });

    test('a change to a series with many occurrences notifies once', async () => {
      const calendarId = await newCalendar('Notified');
      const created = (await sdk.createNotificationChannel({
        callback_url: `${receiver.url}/series`,
        filters: { calendar_ids: [calendarId] },
      })) as { channel: { channel_id: string } };
      const received = () =>
        receiver.requests
          .filter((r) => r.path === '/series')
          .map(
            (r) => JSON.parse(r.body) as { notification: { type: string; changes_since?: string } },
          )
          .map((b) => b.notification);
      /** Delivers what is due, then lets several quiet intervals pass so nothing stays queued. */
      const deliverAll = async () => {
        await h.service.dispatcher.runUntilIdle();
        for (let i = 0; i < 5; i++) {
          clock.advance(QUIET);
          await h.service.dispatcher.runUntilIdle();
        }
      };
      await deliverAll();
      assert.deepEqual(received(), [{ type: 'verification' }]);

      const seriesId = await insertEvent(calendarId, {
        summary: 'Daily check-in',
        start: { dateTime: '2026-12-07T09:00:00', timeZone: 'Europe/Paris' },
        end: { dateTime: '2026-12-07T09:15:00', timeZone: 'Europe/Paris' },
        recurrence: ['RRULE:FREQ=DAILY'],
      });
      // Two exceptions the series change below cancels: their occurrences move away.
      await google('PATCH', `/calendars/${calendarId}/events/${seriesId}_20261209T080000Z`, {
        summary: 'Check-in (long)',
      });
      await google('PATCH', `/calendars/${calendarId}/events/${seriesId}_20261210T080000Z`, {
        summary: 'Check-in (short)',
      });
      await deliverAll();
      const before = received().length;
      const outboxBefore = await h.service.store.db
        .selectFrom('notifications')
        .innerJoin('channels', 'channels.id', 'notifications.channel_id')
        .select(({ fn }) => fn.countAll<number>().as('n'))
        .where('channels.public_id', '=', created.channel.channel_id)
        .executeTakeFirstOrThrow();

      clock.advance(MINUTE);
      const patchedAt = clock.now();
      await google('PATCH', `/calendars/${calendarId}/events/${seriesId}`, {
        start: { dateTime: '2026-12-07T09:30:00', timeZone: 'Europe/Paris' },
        end: { dateTime: '2026-12-07T09:45:00', timeZone: 'Europe/Paris' },
      });
      await deliverAll();
      assert.deepEqual(received().slice(before), [
        { type: 'change', changes_since: cronofyTime(patchedAt) },
      ]);
      const outboxAfter = await h.service.store.db
        .selectFrom('notifications')
        .innerJoin('channels', 'channels.id', 'notifications.channel_id')
        .select(({ fn }) => fn.countAll<number>().as('n'))
        .where('channels.public_id', '=', created.channel.channel_id)
        .executeTakeFirstOrThrow();
      assert.equal(Number(outboxAfter.n) - Number(outboxBefore.n), 1, 'one notification queued');

      // What it announces: every occurrence in the window at its new time, and the
      // exceptions the change cancelled.
      const { pages, events } = await readAll({
        tzid: 'Europe/Paris',
        from: '2026-12-07',
        to: '2027-01-07',
        calendar_ids: [calendarId],
        last_modified: cronofyTime(patchedAt),
        include_deleted: true,
      });
      assert.equal(pages[0]?.total, 2);
      const live = events.filter((e) => !e.deleted);
      assert.equal(live.length, 31);
      assert.ok(live.every((e) => parisClock.format(new Date(e.start)) === '09:30'));
      assert.deepEqual(
        events.filter((e) => e.deleted).map((e) => e.event_uid),
        [`${seriesId}_20261209T080000Z`, `${seriesId}_20261210T080000Z`],
      );
    });
  });
}
