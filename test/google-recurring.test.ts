import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { auth, calendar } from '@googleapis/calendar';
import type { calendar_v3 } from '@googleapis/calendar';
import type { Harness, TestAccount } from './support/harness.ts';
import { createTestAccount, startHarness } from './support/harness.ts';
import { engines } from './support/postgres.ts';
import { ManualClock } from '../src/domain/clock.ts';

/** Recurring events through Google's own client: occurrences, exceptions, paging, sync. */

function clientFor(h: Harness, accessToken: string) {
  const oauth = new auth.OAuth2();
  oauth.setCredentials({ access_token: accessToken });
  return calendar({ version: 'v3', rootUrl: `${h.url}/`, auth: oauth });
}

type Api = ReturnType<typeof clientFor>;

async function allPages(
  read: (pageToken: string | undefined) => Promise<{ data: calendar_v3.Schema$Events }>,
): Promise<{ items: calendar_v3.Schema$Event[]; pages: number; nextSyncToken?: string }> {
  const items: calendar_v3.Schema$Event[] = [];
  let pageToken: string | undefined;
  let pages = 0;
  for (;;) {
    const { data } = await read(pageToken);
    pages++;
    items.push(...(data.items ?? []));
    if (!data.nextPageToken)
      return { items, pages, nextSyncToken: data.nextSyncToken ?? undefined };
    pageToken = data.nextPageToken;
  }
}

async function statusOf(promise: Promise<unknown>): Promise<number> {
  try {
    await promise;
  } catch (err) {
    return (err as { status: number }).status;
  }
  return 200;
}

for (const engine of engines)
  describe(`recurring events through the official @googleapis/calendar client, on ${engine}`, () => {
    let h: Harness;
    let account: TestAccount;
    let api: Api;
    const clock = new ManualClock(Date.parse('2026-12-06T08:00:00Z'));

    before(async () => {
      h = await startHarness({ listen: true, clock, engine });
      account = await createTestAccount(h.service);
      api = clientFor(h, account.accessToken);
    });
    after(async () => {
      await h.close();
    });

    async function newCalendar(summary: string): Promise<string> {
      const cal = await api.calendars.insert({
        requestBody: { summary, timeZone: 'Europe/Paris' },
      });
      return cal.data.id!;
    }

    test('a weekly Paris series stays at 09:00 local across both daylight-saving changes', async () => {
      const calendarId = await newCalendar('Stand-ups');
      const series = await api.events.insert({
        calendarId,
        requestBody: {
          summary: 'Stand-up',
          start: { dateTime: '2026-10-19T09:00:00', timeZone: 'Europe/Paris' },
          end: { dateTime: '2026-10-19T09:15:00', timeZone: 'Europe/Paris' },
          recurrence: ['RRULE:FREQ=WEEKLY;BYDAY=MO;UNTIL=20270405T070000Z'],
        },
      });
      const seriesId = series.data.id!;
      const { items } = await allPages((pageToken) =>
        api.events.list({ calendarId, singleEvents: true, orderBy: 'startTime', pageToken }),
      );
      assert.equal(items.length, 25);
      for (const item of items) {
        assert.match(item.start!.dateTime!, /T09:00:00\+0[12]:00$/);
        assert.equal(item.start!.timeZone, 'Europe/Paris');
        assert.equal(item.recurringEventId, seriesId);
        assert.equal(item.summary, 'Stand-up');
        assert.deepEqual(item.originalStartTime, item.start);
      }
      // Summer time before 25 October, winter time after, summer again from 28 March.
      assert.equal(items[0]!.id, `${seriesId}_20261019T070000Z`);
      assert.equal(items[1]!.id, `${seriesId}_20261026T080000Z`);
      assert.equal(items[1]!.start!.dateTime, '2026-10-26T09:00:00+01:00');
      assert.equal(items.at(-1)!.id, `${seriesId}_20270405T070000Z`);
      assert.equal(items.at(-1)!.start!.dateTime, '2027-04-05T09:00:00+02:00');
      // Read as a series, it is one event with its rule.
      const plain = await api.events.list({ calendarId });
      assert.equal(plain.data.items?.length, 1);
      assert.deepEqual(plain.data.items?.[0]?.recurrence, [
        'RRULE:FREQ=WEEKLY;BYDAY=MO;UNTIL=20270405T070000Z',
      ]);
    });

    test('last Friday monthly with COUNT, an all-day yearly series, and an EXDATE', async () => {
      const calendarId = await newCalendar('Rules');
      const monthly = await api.events.insert({
        calendarId,
        requestBody: {
          summary: 'Review',
          start: { dateTime: '2026-01-30T15:00:00Z' },
          end: { dateTime: '2026-01-30T16:00:00Z' },
          recurrence: ['RRULE:FREQ=MONTHLY;BYDAY=-1FR;COUNT=6', 'EXDATE:20260327T150000Z'],
        },
      });
      const yearly = await api.events.insert({
        calendarId,
        requestBody: {
          summary: 'Anniversary',
          start: { date: '2025-03-14' },
          end: { date: '2025-03-15' },
          recurrence: ['RRULE:FREQ=YEARLY'],
        },
      });
      const { data } = await api.events.list({
        calendarId,
        singleEvents: true,
        orderBy: 'startTime',
        timeMin: '2026-01-01T00:00:00Z',
        timeMax: '2028-01-01T00:00:00Z',
      });
      const ids = data.items!.map((e) => e.id);
      assert.deepEqual(ids, [
        `${monthly.data.id}_20260130T150000Z`,
        `${monthly.data.id}_20260227T150000Z`,
        `${yearly.data.id}_20260314`,
        `${monthly.data.id}_20260424T150000Z`,
        `${monthly.data.id}_20260529T150000Z`,
        `${monthly.data.id}_20260626T150000Z`,
        `${yearly.data.id}_20270314`,
      ]);
      const anniversary = data.items!.find((e) => e.id === `${yearly.data.id}_20270314`);
      assert.deepEqual(anniversary?.start, { date: '2027-03-14' });
      assert.deepEqual(anniversary?.end, { date: '2027-03-15' });
      assert.deepEqual(anniversary?.originalStartTime, { date: '2027-03-14' });
    });

    test('a moved and a cancelled occurrence are exceptions in place of what they replace', async () => {
      const calendarId = await newCalendar('Exceptions');
      const series = await api.events.insert({
        calendarId,
        requestBody: {
          summary: 'One-to-one',
          start: { dateTime: '2026-12-07T10:00:00', timeZone: 'Europe/Paris' },
          end: { dateTime: '2026-12-07T10:30:00', timeZone: 'Europe/Paris' },
          recurrence: ['RRULE:FREQ=WEEKLY'],
        },
      });
      const seriesId = series.data.id!;
      const window = { timeMin: '2026-12-01T00:00:00Z', timeMax: '2027-01-01T00:00:00Z' };
      const moved = `${seriesId}_20261214T090000Z`;
      const cancelled = `${seriesId}_20261221T090000Z`;

      const got = await api.events.get({ calendarId, eventId: moved });
      assert.equal(got.data.recurringEventId, seriesId);
      assert.equal(got.data.start?.dateTime, '2026-12-14T10:00:00+01:00');

      const patched = await api.events.patch({
        calendarId,
        eventId: moved,
        requestBody: {
          summary: 'One-to-one (moved)',
          start: { dateTime: '2026-12-15T14:00:00', timeZone: 'Europe/Paris' },
          end: { dateTime: '2026-12-15T14:30:00', timeZone: 'Europe/Paris' },
        },
      });
      assert.equal(patched.data.id, moved);
      assert.equal(patched.data.recurringEventId, seriesId);
      assert.deepEqual(patched.data.originalStartTime, {
        dateTime: '2026-12-14T10:00:00+01:00',
        timeZone: 'Europe/Paris',
      });
      await api.events.delete({ calendarId, eventId: cancelled });
      assert.equal(await statusOf(api.events.delete({ calendarId, eventId: cancelled })), 410);
      assert.equal(
        await statusOf(api.events.get({ calendarId, eventId: `${seriesId}_20261215T090000Z` })),
        404,
      );

      const list = await api.events.list({ calendarId, singleEvents: true, ...window });
      assert.deepEqual(
        list.data.items!.map((e) => [e.id, e.start?.dateTime, e.summary]),
        [
          [`${seriesId}_20261207T090000Z`, '2026-12-07T10:00:00+01:00', 'One-to-one'],
          [moved, '2026-12-15T14:00:00', 'One-to-one (moved)'],
          [`${seriesId}_20261228T090000Z`, '2026-12-28T10:00:00+01:00', 'One-to-one'],
        ],
      );
      const withDeleted = await api.events.list({
        calendarId,
        singleEvents: true,
        showDeleted: true,
        ...window,
      });
      const gone = withDeleted.data.items!.find((e) => e.id === cancelled);
      assert.equal(gone?.status, 'cancelled');
      assert.equal(gone?.recurringEventId, seriesId);

      // Without singleEvents: the series, its moved occurrence and its cancelled one.
      const plain = await api.events.list({ calendarId });
      assert.deepEqual(
        plain.data.items!.map((e) => [e.id, e.status]).sort(),
        [
          [seriesId, 'confirmed'],
          [moved, 'confirmed'],
          [cancelled, 'cancelled'],
        ].sort(),
      );

      // events.instances: the same occurrences, by series; originalStart picks one.
      const instances = await allPages((pageToken) =>
        api.events.instances({
          calendarId,
          eventId: seriesId,
          ...window,
          maxResults: 2,
          pageToken,
        }),
      );
      assert.equal(instances.pages, 2);
      assert.deepEqual(
        instances.items.map((e) => e.id),
        list.data.items!.map((e) => e.id),
      );
      const one = await api.events.instances({
        calendarId,
        eventId: seriesId,
        originalStart: '2026-12-14T10:00:00+01:00',
      });
      assert.deepEqual(
        one.data.items!.map((e) => e.id),
        [moved],
      );

      // A new time of day for the series: the moved occurrence no longer matches one and goes.
      await api.events.patch({
        calendarId,
        eventId: seriesId,
        requestBody: {
          start: { dateTime: '2026-12-07T11:00:00', timeZone: 'Europe/Paris' },
          end: { dateTime: '2026-12-07T11:30:00', timeZone: 'Europe/Paris' },
        },
      });
      const after = await api.events.list({ calendarId, singleEvents: true, ...window });
      assert.deepEqual(
        after.data.items!.map((e) => e.start?.dateTime),
        [
          '2026-12-07T11:00:00+01:00',
          '2026-12-14T11:00:00+01:00',
          '2026-12-21T11:00:00+01:00',
          '2026-12-28T11:00:00+01:00',
        ],
      );
    });

    test('an infinite series through a one-year window, and orderBy=startTime across series and single events', async () => {
      const calendarId = await newCalendar('Mixed');
      const daily = await api.events.insert({
        calendarId,
        requestBody: {
          summary: 'Daily',
          start: { dateTime: '2020-01-01T08:00:00', timeZone: 'Europe/Paris' },
          end: { dateTime: '2020-01-01T08:10:00', timeZone: 'Europe/Paris' },
          recurrence: ['RRULE:FREQ=DAILY'],
        },
      });
      const weekly = await api.events.insert({
        calendarId,
        requestBody: {
          summary: 'Weekly',
          start: { dateTime: '2024-01-03T12:00:00Z' },
          end: { dateTime: '2024-01-03T13:00:00Z' },
          recurrence: ['RRULE:FREQ=WEEKLY;BYDAY=WE'],
        },
      });
      const single = await api.events.insert({
        calendarId,
        requestBody: {
          summary: 'Single',
          start: { dateTime: '2027-02-03T12:30:00Z' },
          end: { dateTime: '2027-02-03T12:45:00Z' },
        },
      });
      const year = await allPages((pageToken) =>
        api.events.list({
          calendarId,
          singleEvents: true,
          orderBy: 'startTime',
          timeMin: '2027-01-01T00:00:00Z',
          timeMax: '2028-01-01T00:00:00Z',
          maxResults: 100,
          pageToken,
        }),
      );
      assert.equal(year.pages, 5);
      const daily2027 = year.items.filter((e) => e.recurringEventId === daily.data.id);
      const weekly2027 = year.items.filter((e) => e.recurringEventId === weekly.data.id);
      assert.equal(daily2027.length, 365);
      assert.equal(weekly2027.length, 52);
      assert.equal(year.items.length, 365 + 52 + 1);
      const starts = year.items.map((e) => Date.parse(e.start!.dateTime!));
      assert.deepEqual(
        starts,
        starts.toSorted((a, b) => a - b),
      );
      const feb3 = year.items.filter((e) => e.start!.dateTime!.startsWith('2027-02-03'));
      assert.deepEqual(
        feb3.map((e) => e.id),
        [`${daily.data.id}_20270203T070000Z`, `${weekly.data.id}_20270203T120000Z`, single.data.id],
      );
    });

    test('incremental sync after an exception is made returns that occurrence alone', async () => {
      const calendarId = await newCalendar('Sync');
      const series = await api.events.insert({
        calendarId,
        requestBody: {
          summary: 'Office hours',
          start: { dateTime: '2026-12-08T16:00:00Z' },
          end: { dateTime: '2026-12-08T17:00:00Z' },
          recurrence: ['RRULE:FREQ=WEEKLY;COUNT=4'],
        },
      });
      const seriesId = series.data.id!;
      const full = await allPages((pageToken) =>
        api.events.list({ calendarId, singleEvents: true, pageToken }),
      );
      assert.equal(full.items.length, 4);
      const plainFull = await allPages((pageToken) => api.events.list({ calendarId, pageToken }));

      await api.events.patch({
        calendarId,
        eventId: `${seriesId}_20261215T160000Z`,
        requestBody: { summary: 'Office hours (room 2)' },
      });
      const single = await api.events.list({
        calendarId,
        singleEvents: true,
        syncToken: full.nextSyncToken!,
      });
      assert.deepEqual(
        single.data.items!.map((e) => [e.id, e.summary]),
        [[`${seriesId}_20261215T160000Z`, 'Office hours (room 2)']],
      );
      const plain = await api.events.list({ calendarId, syncToken: plainFull.nextSyncToken! });
      assert.deepEqual(
        plain.data.items!.map((e) => [e.id, e.recurringEventId]),
        [[`${seriesId}_20261215T160000Z`, seriesId]],
      );

      // A change to the series itself: every occurrence comes back, the exception in its place.
      await api.events.patch({
        calendarId,
        eventId: seriesId,
        requestBody: { description: 'Bring questions' },
      });
      const again = await api.events.list({
        calendarId,
        singleEvents: true,
        syncToken: single.data.nextSyncToken!,
      });
      assert.deepEqual(
        again.data.items!.map((e) => e.id),
        full.items.map((e) => e.id),
      );
      assert.equal(again.data.items![1]!.summary, 'Office hours (room 2)');
      assert.equal(again.data.items![0]!.description, 'Bring questions');
    });

    test('occurrences longer than the gap between them are all listed, page after page', async () => {
      const calendarId = await newCalendar('Long');
      const series = await api.events.insert({
        calendarId,
        requestBody: {
          summary: 'Conference',
          start: { dateTime: '2026-12-01T09:00:00Z' },
          end: { dateTime: '2026-12-04T09:00:00Z' },
          recurrence: ['RRULE:FREQ=DAILY;COUNT=60'],
        },
      });
      const { items, pages } = await allPages((pageToken) =>
        api.events.list({ calendarId, singleEvents: true, maxResults: 7, pageToken }),
      );
      assert.equal(pages, 9);
      assert.equal(items.length, 60);
      assert.equal(new Set(items.map((e) => e.id)).size, 60);
      assert.ok(items.every((e) => e.recurringEventId === series.data.id));
    });

    test('an occurrence moved far from its series is listed where it now is', async () => {
      const calendarId = await newCalendar('Moved far');
      const series = await api.events.insert({
        calendarId,
        requestBody: {
          summary: 'Twice',
          start: { dateTime: '2026-12-07T10:00:00Z' },
          end: { dateTime: '2026-12-07T11:00:00Z' },
          recurrence: ['RRULE:FREQ=WEEKLY;COUNT=2'],
        },
      });
      const moved = `${series.data.id}_20261214T100000Z`;
      await api.events.patch({
        calendarId,
        eventId: moved,
        requestBody: {
          start: { dateTime: '2027-02-10T10:00:00Z' },
          end: { dateTime: '2027-02-10T11:00:00Z' },
        },
      });
      const february = { timeMin: '2027-02-01T00:00:00Z', timeMax: '2027-03-01T00:00:00Z' };
      const list = await api.events.list({ calendarId, singleEvents: true, ...february });
      assert.deepEqual(
        list.data.items!.map((e) => e.id),
        [moved],
      );
      const instances = await api.events.instances({
        calendarId,
        eventId: series.data.id!,
        ...february,
      });
      assert.deepEqual(
        instances.data.items!.map((e) => e.id),
        [moved],
      );
      const december = await api.events.list({
        calendarId,
        singleEvents: true,
        timeMin: '2026-12-01T00:00:00Z',
        timeMax: '2027-01-01T00:00:00Z',
      });
      assert.deepEqual(
        december.data.items!.map((e) => e.id),
        [`${series.data.id}_20261207T100000Z`],
      );
    });

    test('a calendar holding one series alone pages to the end of the window', async () => {
      // Each page after the first goes on from a cursor that is itself an occurrence: it must
      // not take the place of the one that tells whether another page follows.
      const calendarId = await newCalendar('One series');
      const series = await api.events.insert({
        calendarId,
        requestBody: {
          summary: 'Daily',
          start: { dateTime: '2026-01-01T08:00:00', timeZone: 'Europe/Paris' },
          end: { dateTime: '2026-01-01T08:10:00', timeZone: 'Europe/Paris' },
          recurrence: ['RRULE:FREQ=DAILY'],
        },
      });
      const window = { timeMin: '2027-01-01T00:00:00Z', timeMax: '2027-02-01T00:00:00Z' };
      const listed = await allPages((pageToken) =>
        api.events.list({ calendarId, singleEvents: true, ...window, maxResults: 10, pageToken }),
      );
      const instances = await allPages((pageToken) =>
        api.events.instances({
          calendarId,
          eventId: series.data.id!,
          ...window,
          maxResults: 10,
          pageToken,
        }),
      );
      for (const { items, pages } of [listed, instances]) {
        assert.equal(items.length, 31);
        assert.equal(pages, 4);
      }
    });

    test('a bad occurrence id is a 404, and an occurrence cannot recur itself', async () => {
      const calendarId = await newCalendar('Bad ids');
      const series = await api.events.insert({
        calendarId,
        requestBody: {
          summary: 'Weekly',
          start: { dateTime: '2026-12-07T10:00:00Z' },
          end: { dateTime: '2026-12-07T11:00:00Z' },
          recurrence: ['RRULE:FREQ=WEEKLY'],
        },
      });
      const seriesId = series.data.id!;
      assert.equal(
        await statusOf(api.events.get({ calendarId, eventId: `${seriesId}_20261208T100000Z` })),
        404,
      );
      assert.equal(
        await statusOf(
          api.events.patch({
            calendarId,
            eventId: `${seriesId}_20261214T100000Z`,
            requestBody: { recurrence: ['RRULE:FREQ=DAILY'] },
          }),
        ),
        400,
      );
    });
  });
