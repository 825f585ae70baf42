import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { GraphServiceClient } from '@microsoft/msgraph-sdk';
import type { Event } from '@microsoft/msgraph-sdk/models/index.js';
import { DateOnly } from '@microsoft/kiota-abstractions';
import type { Harness, TestAccount } from './support/harness.ts';
import { createTestAccount, startHarness } from './support/harness.ts';
import { graphClientFor } from './support/graph.ts';

/** Kiota's ODataError: Graph's envelope parsed, its `error` under `errorEscaped`. */
interface ODataFailure {
  responseStatusCode: number;
  errorEscaped?: { code?: string; message?: string };
  message: string;
}

async function failure(promise: Promise<unknown>): Promise<ODataFailure> {
  try {
    await promise;
  } catch (err) {
    return err as ODataFailure;
  }
  assert.fail('expected the call to fail');
}

const at = (day: number, hour: number): Event => ({
  subject: `Day ${day} at ${hour}`,
  start: {
    dateTime: `2026-12-${String(day).padStart(2, '0')}T${String(hour).padStart(2, '0')}:00:00`,
    timeZone: 'UTC',
  },
  end: {
    dateTime: `2026-12-${String(day).padStart(2, '0')}T${String(hour + 1).padStart(2, '0')}:00:00`,
    timeZone: 'UTC',
  },
});

const removed = (e: Event) => e.additionalData?.['@removed'] !== undefined;

describe('Graph events and calendarView delta through @microsoft/msgraph-sdk', () => {
  let h: Harness;
  let account: TestAccount;
  let graph: GraphServiceClient;

  before(async () => {
    h = await startHarness({ listen: true });
    account = await createTestAccount(h.service);
    graph = graphClientFor(h.url, account.accessToken);
  });
  after(() => h.close());

  test('create, read, patch and delete an event in Graph shape', async () => {
    const created = await graph.me.events.post({
      subject: 'Planning',
      body: { contentType: 'html', content: '<p>Agenda</p>' },
      start: { dateTime: '2026-12-01T09:00:00.0000000', timeZone: 'Pacific Standard Time' },
      end: { dateTime: '2026-12-01T10:00:00.0000000', timeZone: 'Pacific Standard Time' },
      location: { displayName: 'Room 1' },
      showAs: 'tentative',
    });
    assert.ok(created?.id);
    assert.equal(created.type, 'singleInstance');
    assert.equal(created.subject, 'Planning');
    assert.equal(created.body?.contentType, 'html');
    // Read in UTC unless the reader prefers a zone: 09:00 in Los Angeles is 17:00 UTC.
    assert.equal(created.start?.dateTime, '2026-12-01T17:00:00.0000000');
    assert.equal(created.start?.timeZone, 'UTC');
    assert.equal(created.originalStartTimeZone, 'America/Los_Angeles');
    assert.equal(created.showAs, 'tentative');
    assert.ok(created.changeKey);

    const read = await graph.me.events.byEventId(created.id).get({
      headers: { Prefer: 'outlook.timezone="Pacific Standard Time"' },
    });
    assert.equal(read?.start?.dateTime, '2026-12-01T09:00:00.0000000');
    assert.equal(read?.start?.timeZone, 'Pacific Standard Time');
    assert.equal(read?.location?.displayName, 'Room 1');

    const patched = await graph.me.events.byEventId(created.id).patch({ subject: 'Moved' });
    assert.equal(patched?.subject, 'Moved');
    assert.equal(patched?.location?.displayName, 'Room 1');
    assert.notEqual(patched?.changeKey, created.changeKey);

    await graph.me.events.byEventId(created.id).delete();
    const gone = await failure(graph.me.events.byEventId(created.id).get());
    assert.equal(gone.responseStatusCode, 404);
  });

  test('a weekly series: patternedRecurrence in and out, occurrences in calendarView delta', async () => {
    const series = await graph.me.calendar.events.post({
      subject: 'Stand-up',
      start: { dateTime: '2026-11-02T09:00:00', timeZone: 'Europe/Paris' },
      end: { dateTime: '2026-11-02T09:15:00', timeZone: 'Europe/Paris' },
      recurrence: {
        pattern: { type: 'weekly', interval: 1, daysOfWeek: ['monday', 'wednesday'] },
        range: {
          type: 'numbered',
          startDate: new DateOnly({ year: 2026, month: 11, day: 2 }),
          numberOfOccurrences: 4,
        },
      },
    });
    assert.equal(series?.type, 'seriesMaster');
    assert.equal(series?.recurrence?.pattern?.type, 'weekly');
    assert.deepEqual(series?.recurrence?.pattern?.daysOfWeek, ['monday', 'wednesday']);
    assert.equal(series?.recurrence?.range?.type, 'numbered');
    assert.equal(series?.recurrence?.range?.numberOfOccurrences, 4);

    const page = await graph.me.calendarView.delta.get({
      queryParameters: {
        startDateTime: '2026-11-01T00:00:00Z',
        endDateTime: '2026-11-30T00:00:00Z',
      },
    });
    const occurrences = (page?.value ?? []).filter((e) => e.seriesMasterId === series?.id);
    assert.equal(occurrences.length, 4);
    assert.ok(occurrences.every((e) => e.type === 'occurrence'));
    assert.equal(occurrences[0]?.start?.dateTime, '2026-11-02T08:00:00.0000000');
    await graph.me.events.byEventId(series.id!).delete();
  });

  test('delta: pages by odata.maxpagesize, a deltaLink, then changes and removals; 410 reset', async () => {
    const ids: string[] = [];
    for (const day of [7, 8, 9]) ids.push((await graph.me.events.post(at(day, 9)))!.id!);
    const window = { startDateTime: '2026-12-07T00:00:00Z', endDateTime: '2026-12-10T00:00:00Z' };
    const first = await graph.me.calendarView.delta.get({
      queryParameters: window,
      headers: { Prefer: 'odata.maxpagesize=2' },
    });
    assert.equal(first?.value?.length, 2);
    assert.ok(first?.odataNextLink?.startsWith(`${h.url}/v1.0/me/calendarView/delta`));
    assert.equal(first?.odataDeltaLink, undefined);
    const second = await graph.me.calendarView.delta.withUrl(first.odataNextLink!).get({
      headers: { Prefer: 'odata.maxpagesize=2' },
    });
    assert.equal(second?.value?.length, 1);
    assert.deepEqual(
      [...first.value, ...second.value].map((e) => e.id),
      ids,
    );
    const deltaLink = second?.odataDeltaLink;
    assert.ok(deltaLink?.includes('$deltatoken='));

    await graph.me.events.byEventId(ids[0]!).patch({ subject: 'Changed' });
    await graph.me.events.byEventId(ids[1]!).delete();
    await graph.me.events.byEventId(ids[2]!).patch({
      start: { dateTime: '2026-12-20T09:00:00', timeZone: 'UTC' },
      end: { dateTime: '2026-12-20T10:00:00', timeZone: 'UTC' },
    });
    const changes = await graph.me.calendarView.delta.withUrl(deltaLink!).get();
    const byId = new Map((changes?.value ?? []).map((e) => [e.id, e]));
    assert.equal(byId.size, 3);
    assert.equal(byId.get(ids[0])?.subject, 'Changed');
    assert.ok(removed(byId.get(ids[1])!));
    // Moved out of the window: removed from the client's view of it.
    assert.ok(removed(byId.get(ids[2])!));
    const quiet = await graph.me.calendarView.delta.withUrl(changes!.odataDeltaLink!).get();
    assert.deepEqual(quiet?.value, []);

    const tampered = deltaLink!.replace(/\$deltatoken=.{4}/, '$deltatoken=xxxx');
    const reset = await failure(graph.me.calendarView.delta.withUrl(tampered).get());
    assert.equal(reset.responseStatusCode, 410);
    assert.equal(reset.errorEscaped?.code, 'SyncStateNotFound');
  });

  test("lists page with $top and nextLink; errors come in Graph's envelope", async () => {
    for (const day of [14, 15, 16]) await graph.me.events.post(at(day, 9));
    const list = await graph.me.events.get({ queryParameters: { top: 2 } });
    assert.equal(list?.value?.length, 2);
    assert.ok(list?.odataNextLink);
    const rest = await graph.me.events.withUrl(list.odataNextLink).get();
    assert.ok((rest?.value?.length ?? 0) >= 1);
    const calendars = await graph.me.calendars.get();
    assert.equal(calendars?.value?.length, 1);
    assert.equal(calendars?.value?.[0]?.isDefaultCalendar, true);
    const bad = await failure(
      graph.me.events.post({
        subject: 'x',
        start: { dateTime: '2026-12-01T09:00:00', timeZone: 'Nowhere/Else' },
        end: { dateTime: '2026-12-01T10:00:00', timeZone: 'UTC' },
      }),
    );
    assert.equal(bad.responseStatusCode, 400);
    assert.equal(bad.errorEscaped?.code, 'TimeZoneNotSupportedException');
    const unknown = await failure(graph.me.events.byEventId('nope').get());
    assert.equal(unknown.responseStatusCode, 404);
    assert.equal(unknown.errorEscaped?.code, 'ResourceNotFound');
    const anonymous = graphClientFor(h.url, 'tok_wrong');
    const denied = await failure(anonymous.me.events.get());
    assert.equal(denied.responseStatusCode, 401);
    assert.equal(denied.errorEscaped?.code, 'InvalidAuthenticationToken');
  });
});
