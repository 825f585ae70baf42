import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Harness, TestAccount } from './support/harness.ts';
import { createTestAccount, startHarness } from './support/harness.ts';
import { callApi, settleSources } from './support/api.ts';
import { Feed } from './support/ics-feed.ts';
import { ManualClock } from '../src/domain/clock.ts';

/**
 * Never a crash when read from a source: a feed's recurrence rules were checked by nobody, so
 * a rule calpush cannot read must cost that series its recurrence, not the feed its poll or
 * the calendar its reads. Such a series shows as its first occurrence (occurrence-rows.ts).
 */

function vevent(uid: string, start: string, rule?: string): string {
  return [
    'BEGIN:VEVENT',
    `UID:${uid}`,
    'DTSTAMP:20261201T000000Z',
    `DTSTART;TZID=Europe/Paris:${start}`,
    `DTEND;TZID=Europe/Paris:${start.slice(0, 9)}${String(Number(start.slice(9, 11)) + 1).padStart(2, '0')}${start.slice(11)}`,
    `SUMMARY:${uid}`,
    ...(rule === undefined ? [] : [`RRULE:${rule}`]),
    'END:VEVENT',
  ].join('\r\n');
}

interface Item {
  id: string;
  summary?: string;
  recurringEventId?: string;
  recurrence?: string[];
  start?: { dateTime?: string };
}

interface Json {
  source?: { source_id: string; state: string; calendar_ids: string[]; last_error: string | null };
  items?: Item[];
  events?: { summary: string; start: { time: string } }[];
}

const feed = new Feed();
const clock = new ManualClock(Date.UTC(2026, 11, 6, 9, 0, 0));
let h: Harness;
let account: TestAccount;

before(async () => {
  await feed.start();
  h = await startHarness({ clock });
  account = await createTestAccount(h.service);
});
after(async () => {
  await h.close();
  await feed.close();
});

test('malformed RRULEs beside good events: the poll succeeds and every read answers', async () => {
  feed.publish([
    vevent('single@test', '20261207T090000'),
    vevent('weekly@test', '20261208T090000', 'FREQ=WEEKLY;COUNT=3'),
    vevent('sometimes@test', '20261209T090000', 'FREQ=SOMETIMES'),
    vevent('bad-day@test', '20261210T090000', 'FREQ=WEEKLY;BYDAY=XX'),
    vevent('no-freq@test', '20261211T090000', 'INTERVAL=2'),
    vevent('bad-until@test', '20261212T090000', 'FREQ=DAILY;UNTIL=tomorrow'),
    // Readable, but it would run to the year 2 000 002 026: it ends at 9999 instead.
    vevent('huge@test', '20261213T090000', 'FREQ=YEARLY;COUNT=2000000000'),
  ]);
  const call = (method: string, path: string, body?: unknown) =>
    callApi<Json>(h.service, account.accessToken, method, path, body);
  const created = await call('POST', '/v1/sources', { provider: 'ics', url: feed.url });
  assert.equal(created.status, 201);
  const sourceId = created.json.source!.source_id;
  const calendarId = created.json.source!.calendar_ids[0]!;
  await settleSources(h.service, clock);

  const source = await call('GET', `/v1/sources/${sourceId}`);
  assert.equal(source.json.source?.state, 'connected');
  assert.equal(source.json.source?.last_error, null);

  const window = 'timeMin=2026-12-01T00:00:00Z&timeMax=2027-01-01T00:00:00Z';
  const single = await call(
    'GET',
    `/calendar/v3/calendars/${calendarId}/events?singleEvents=true&orderBy=startTime&${window}`,
  );
  assert.equal(single.status, 200);
  assert.deepEqual(
    single.json.items?.map((i) => [i.summary, i.start?.dateTime?.slice(0, 19)]),
    [
      ['single@test', '2026-12-07T09:00:00'],
      ['weekly@test', '2026-12-08T09:00:00'],
      // Each series calpush cannot expand is its first occurrence, once.
      ['sometimes@test', '2026-12-09T09:00:00'],
      ['bad-day@test', '2026-12-10T09:00:00'],
      ['no-freq@test', '2026-12-11T09:00:00'],
      ['bad-until@test', '2026-12-12T09:00:00'],
      ['huge@test', '2026-12-13T09:00:00'],
      ['weekly@test', '2026-12-15T09:00:00'],
      ['weekly@test', '2026-12-22T09:00:00'],
    ],
  );
  // Next year, the good series are over, the unreadable ones show nothing, the huge one goes on.
  const later = await call(
    'GET',
    `/calendar/v3/calendars/${calendarId}/events?singleEvents=true&timeMin=2027-12-01T00:00:00Z&timeMax=2028-01-01T00:00:00Z`,
  );
  assert.equal(later.status, 200);
  assert.deepEqual(
    later.json.items?.map((i) => [i.summary, i.start?.dateTime]),
    [['huge@test', '2027-12-13T09:00:00+01:00']],
  );

  const plain = await call('GET', `/calendar/v3/calendars/${calendarId}/events`);
  assert.equal(plain.status, 200);
  const rules = new Map(plain.json.items?.map((i) => [i.summary, i.recurrence]));
  assert.equal(rules.size, 7);
  assert.equal(rules.get('single@test'), undefined);
  assert.deepEqual(rules.get('weekly@test'), ['RRULE:FREQ=WEEKLY;COUNT=3']);
  // The rules are kept as the feed wrote them: an API reader sees what the source said.
  assert.deepEqual(rules.get('sometimes@test'), ['RRULE:FREQ=SOMETIMES']);
  assert.deepEqual(rules.get('bad-day@test'), ['RRULE:FREQ=WEEKLY;BYDAY=XX']);

  const cronofy = await call(
    'GET',
    `/v1/events?tzid=Etc/UTC&calendar_ids[]=${calendarId}&from=2026-12-01&to=2026-12-31`,
  );
  assert.equal(cronofy.status, 200);
  assert.equal(new Set(cronofy.json.events?.map((e) => e.summary)).size, 7);
});
