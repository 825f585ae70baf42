import { afterEach, test } from 'node:test';
import assert from 'node:assert/strict';
import type { GraphServiceClient } from '@microsoft/msgraph-sdk';
import type { Event } from '@microsoft/msgraph-sdk/models/index.js';
import { DateOnly } from '@microsoft/kiota-abstractions';
import type { Harness } from './support/harness.ts';
import { createTestAccount, startHarness } from './support/harness.ts';
import { engines } from './support/postgres.ts';
import { graphClientFor } from './support/graph.ts';
import { FakeCaldav } from './support/fake-caldav.ts';
import { vcalendar } from './support/ical-stand-in.ts';
import { callApi, settleSources } from './support/api.ts';
import { ManualClock } from '../src/domain/clock.ts';
import { latestSeq } from '../src/core/events.ts';
import { vanishedInstances } from '../src/core/vanished-instances.ts';

let h: Harness | undefined;
afterEach(() => h?.close());

const removed = (e: Event) => e.additionalData?.['@removed'] !== undefined;

/** Every page of a delta round, two items a page; the items and the next round's link. */
async function round(graph: GraphServiceClient, link: string) {
  const items: Event[] = [];
  let next: string | undefined = link;
  for (;;) {
    const page = await graph.me.calendarView.delta
      .withUrl(next)
      .get({ headers: { Prefer: 'odata.maxpagesize=2' } });
    items.push(...(page?.value ?? []));
    if (page?.odataNextLink) next = page.odataNextLink;
    else return { items, deltaLink: page!.odataDeltaLink! };
  }
}

const daily = (count: number) => ({
  pattern: { type: 'daily' as const, interval: 1 },
  range: {
    type: 'numbered' as const,
    startDate: new DateOnly({ year: 2026, month: 12, day: 1 }),
    numberOfOccurrences: count,
  },
});

for (const engine of engines) {
  test(`calendarView delta names the occurrences a changed rule dropped as removed, on ${engine}`, async () => {
    h = await startHarness({ listen: true, engine });
    const account = await createTestAccount(h.service);
    const graph = graphClientFor(h.url, account.accessToken);
    const series = await graph.me.events.post({
      subject: 'Daily',
      start: { dateTime: '2026-12-01T09:00:00', timeZone: 'UTC' },
      end: { dateTime: '2026-12-01T09:30:00', timeZone: 'UTC' },
      recurrence: daily(5),
    });
    const single = await graph.me.events.post({
      subject: 'Once',
      start: { dateTime: '2026-12-20T09:00:00', timeZone: 'UTC' },
      end: { dateTime: '2026-12-20T10:00:00', timeZone: 'UTC' },
    });
    const start = `${h.url}/v1.0/me/calendarView/delta?startDateTime=2026-12-01T00:00:00Z&endDateTime=2027-01-01T00:00:00Z`;
    const full = await round(graph, start);
    const occurrenceIds = full.items
      .filter((e) => e.seriesMasterId === series?.id)
      .map((e) => e.id);
    assert.equal(occurrenceIds.length, 5);

    // COUNT 5 → 3: the 4th and 5th occurrences are gone; the single event becomes a series.
    await graph.me.events.byEventId(series!.id!).patch({ recurrence: daily(3) });
    await graph.me.events.byEventId(single!.id!).patch({
      recurrence: {
        pattern: { type: 'daily', interval: 1 },
        range: {
          type: 'numbered',
          startDate: new DateOnly({ year: 2026, month: 12, day: 20 }),
          numberOfOccurrences: 2,
        },
      },
    });
    const changes = await round(graph, full.deltaLink);
    const gone = changes.items.filter(removed).map((e) => e.id);
    assert.deepEqual(gone.sort(), [...occurrenceIds.slice(3), single!.id].sort());
    const listed = changes.items.filter((e) => !removed(e));
    assert.deepEqual(
      listed.filter((e) => e.seriesMasterId === series?.id).map((e) => e.id),
      occurrenceIds.slice(0, 3),
    );
    assert.equal(listed.filter((e) => e.seriesMasterId === single?.id).length, 2);
    // Told once: the next round has nothing.
    const quiet = await round(graph, changes.deltaLink);
    assert.deepEqual(quiet.items, []);
  });
}

const dailyIcs = (count: number) =>
  vcalendar([
    'BEGIN:VEVENT',
    'UID:daily@test',
    'DTSTAMP:20261101T000000Z',
    'DTSTART:20261201T090000Z',
    'DTEND:20261201T093000Z',
    `RRULE:FREQ=DAILY;COUNT=${count}`,
    'SUMMARY:Daily',
    'END:VEVENT',
  ]);

test('a series mirrored from a source whose rule shrinks: its dropped occurrences are found', async () => {
  const clock = new ManualClock(Date.UTC(2026, 10, 20, 9));
  h = await startHarness({ clock });
  const service = h.service;
  const fake = await FakeCaldav.start('sync');
  try {
    fake.put('daily.ics', dailyIcs(4));
    const account = await createTestAccount(service);
    const made = await callApi<{ source?: { source_id: string; calendar_ids: string[] } }>(
      service,
      account.accessToken,
      'POST',
      '/v1/sources',
      { provider: 'caldav', url: fake.homeUrl, username: 'ada', password: 'secret' },
    );
    assert.equal(made.status, 201);
    await settleSources(service, clock);
    const calendarId = made.json.source!.calendar_ids[0]!;
    const before = await latestSeq(service.core, account.accountId);
    fake.put('daily.ics', dailyIcs(2));
    const poll = `/v1/sources/${made.json.source!.source_id}/poll`;
    assert.equal((await callApi(service, account.accessToken, 'POST', poll)).status, 202);
    await settleSources(service, clock);
    const gone = await vanishedInstances(service.core, {
      accountId: account.accountId,
      calendarId,
      from: Date.UTC(2026, 11, 1),
      to: Date.UTC(2027, 0, 1),
      afterSeq: before,
      throughSeq: await latestSeq(service.core, account.accountId),
    });
    assert.equal(gone.length, 2);
    assert.ok(
      gone.every((id) => /_2026120[34]T090000Z$/.test(id)),
      gone.join(', '),
    );
  } finally {
    await fake.close();
  }
});
