import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Harness, TestAccount } from './support/harness.ts';
import { createTestAccount, startHarness, watchAccount } from './support/harness.ts';
import { Receiver } from './support/receiver.ts';
import { Feed } from './support/ics-feed.ts';
import { callApi, settleSources } from './support/api.ts';
import { ManualClock } from '../src/domain/clock.ts';
import { engines } from './support/postgres.ts';
import { randomBytes } from 'node:crypto';
import { createSecretBox } from '../src/core/secret-box.ts';

function vevent(uid: string, summary: string, day: number): string {
  const date = `202612${String(day).padStart(2, '0')}`;
  return [
    'BEGIN:VEVENT',
    `UID:${uid}`,
    'DTSTAMP:20261201T000000Z',
    `DTSTART:${date}T090000Z`,
    `DTEND:${date}T100000Z`,
    `SUMMARY:${summary}`,
    'END:VEVENT',
  ].join('\r\n');
}

interface Json {
  source?: { source_id: string; state: string; calendar_ids: string[]; last_error: string | null };
  events?: { event_uid: string; summary: string; deleted: boolean }[];
  items?: { id: string; summary?: string; status?: string }[];
  nextSyncToken?: string;
  summary?: string;
  profiles?: { provider_name: string; profile_connected: boolean }[];
  errors?: Record<string, unknown>;
  error?: { code: number };
}

for (const engine of engines) {
  describe(`an ICS feed as a source, through both faces, on ${engine}`, () => {
    const clock = new ManualClock(Date.UTC(2026, 11, 6, 9, 0, 0));
    const feed = new Feed();
    let h: Harness;
    let receiver: Receiver;
    let account: TestAccount;
    let sourceId = '';
    let calendarId = '';

    const call = (method: string, path: string, body?: unknown) =>
      callApi<Json>(h.service, account.accessToken, method, path, body);
    const settle = () => settleSources(h.service, clock);
    const notified = () => receiver.notificationTypes();

    before(async () => {
      await feed.start();
      feed.publish([vevent('a@test', 'Stand-up', 7), vevent('b@test', 'Review', 8)]);
      h = await startHarness({ clock, engine });
      receiver = await Receiver.start();
      account = await createTestAccount(h.service);
      await watchAccount(h.service, account, receiver.url);
      await h.service.dispatcher.runUntilIdle();
      clock.advance(1000);
    });
    after(async () => {
      await h.close();
      await receiver.close();
      await feed.close();
    });

    test('connecting checks the feed, then the first sync imports it and says so', async () => {
      const created = await call('POST', '/v1/sources', {
        provider: 'ics',
        url: feed.url,
      });
      assert.equal(created.status, 201);
      assert.equal(created.json.source?.state, 'initial_sync');
      sourceId = created.json.source.source_id;
      calendarId = created.json.source.calendar_ids[0]!;
      await settle();
      const source = await call('GET', `/v1/sources/${sourceId}`);
      assert.equal(source.json.source?.state, 'connected');
      const events = await call(
        'GET',
        `/v1/events?tzid=Etc/UTC&calendar_ids[]=${calendarId}&from=2026-12-01&to=2026-12-31`,
      );
      assert.deepEqual(events.json.events?.map((e) => e.summary).sort(), ['Review', 'Stand-up']);
      assert.ok(notified().includes('profile_initial_sync_completed'));
      const profiles = await call('GET', '/v1/profiles');
      assert.deepEqual(
        profiles.json.profiles?.map((p) => [p.provider_name, p.profile_connected]),
        [
          ['calpush', true],
          ['ics', true],
        ],
      );
    });

    test('an idle poll asks conditionally, writes no change and notifies no one', async () => {
      const before = receiver.requests.length;
      const sync = await call('GET', `/calendar/v3/calendars/${calendarId}/events`);
      assert.equal(sync.status, 200);
      // Past the 15-minute interval and its jitter (up to a tenth more).
      clock.advance(17 * 60 * 1000);
      await settle();
      assert.equal(feed.asked.at(-1)?.['if-none-match'], `"v${feed.version}"`);
      assert.equal(receiver.requests.length, before);
      const since = await call(
        'GET',
        `/calendar/v3/calendars/${calendarId}/events?syncToken=${encodeURIComponent(sync.json.nextSyncToken!)}`,
      );
      assert.deepEqual(since.json.items, []);
    });

    test('one changed event is one notification and the only item of the next incremental reads', async () => {
      const sync = await call('GET', `/calendar/v3/calendars/${calendarId}/events`);
      const changedAt = clock.now();
      feed.publish([vevent('a@test', 'Stand-up (moved)', 7), vevent('b@test', 'Review', 8)]);
      const before = receiver.requests.length;
      assert.equal((await call('POST', `/v1/sources/${sourceId}/poll`)).status, 202);
      await settle();
      assert.deepEqual(notified().slice(before), ['change']);
      const google = await call(
        'GET',
        `/calendar/v3/calendars/${calendarId}/events?syncToken=${encodeURIComponent(sync.json.nextSyncToken!)}`,
      );
      assert.deepEqual(
        google.json.items?.map((i) => i.summary),
        ['Stand-up (moved)'],
      );
      const cronofy = await call(
        'GET',
        `/v1/events?tzid=Etc/UTC&calendar_ids[]=${calendarId}&last_modified=${new Date(changedAt).toISOString()}`,
      );
      assert.deepEqual(
        cronofy.json.events?.map((e) => e.summary),
        ['Stand-up (moved)'],
      );
    });

    test('an event gone from the feed is deleted, and ids stay the same across polls', async () => {
      const sync = await call('GET', `/calendar/v3/calendars/${calendarId}/events`);
      const ids = new Map(sync.json.items?.map((i) => [i.summary, i.id]));
      feed.publish([vevent('a@test', 'Stand-up (moved)', 7)]);
      await call('POST', `/v1/sources/${sourceId}/poll`);
      await settle();
      const since = await call(
        'GET',
        `/calendar/v3/calendars/${calendarId}/events?syncToken=${encodeURIComponent(sync.json.nextSyncToken!)}`,
      );
      assert.deepEqual(
        since.json.items?.map((i) => [i.id, i.status]),
        [[ids.get('Review'), 'cancelled']],
      );
    });

    test('a calendar renamed upstream is renamed here, and calendar list watchers hear of it', async () => {
      const list = await call('POST', '/calendar/v3/users/me/calendarList/watch', {
        id: `list-${engine}`,
        type: 'web_hook',
        address: receiver.url,
      });
      assert.equal(list.status, 200);
      await settle();
      const before = receiver.requests.length;
      feed.name = 'Team (renamed)';
      feed.publish([vevent('a@test', 'Stand-up (moved)', 7)]);
      await call('POST', `/v1/sources/${sourceId}/poll`);
      await settle();
      const calendar = await call('GET', `/calendar/v3/users/me/calendarList/${calendarId}`);
      assert.equal(calendar.json.summary, 'Team (renamed)');
      const states = receiver.requests
        .slice(before)
        .map((r) => r.headers['x-goog-resource-state'])
        .filter((state) => state !== undefined);
      assert.deepEqual(states, ['exists']);
      await call('POST', '/calendar/v3/channels/stop', { id: `list-${engine}` });
    });

    test("the source's calendar is read-only in both faces", async () => {
      const cronofy = await call('POST', `/v1/calendars/${calendarId}/events`, {
        event_id: 'mine',
        summary: 'no',
        start: '2026-12-09T09:00:00Z',
        end: '2026-12-09T10:00:00Z',
      });
      assert.equal(cronofy.status, 403);
      const google = await call('POST', `/calendar/v3/calendars/${calendarId}/events`, {
        summary: 'no',
        start: { dateTime: '2026-12-09T09:00:00Z' },
        end: { dateTime: '2026-12-09T10:00:00Z' },
      });
      assert.equal(google.status, 403);
      assert.equal(google.json.error?.code, 403);
    });

    test('a malformed feed makes the source failing with a clear error; what it imported stays', async () => {
      feed.body =
        'BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:x@test\r\nSUMMARY:no start\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n';
      feed.version++;
      await call('POST', `/v1/sources/${sourceId}/poll`);
      await settle();
      const source = await call('GET', `/v1/sources/${sourceId}`);
      assert.equal(source.json.source?.state, 'failing');
      assert.match(source.json.source?.last_error ?? '', /x@test/);
      const events = await call(
        'GET',
        `/v1/events?tzid=Etc/UTC&calendar_ids[]=${calendarId}&from=2026-12-01&to=2026-12-31`,
      );
      assert.deepEqual(
        events.json.events?.map((e) => e.summary),
        ['Stand-up (moved)'],
      );
    });

    test('removing the source deletes its calendar, and its profile is no longer listed', async () => {
      assert.equal((await call('DELETE', `/v1/sources/${sourceId}`)).status, 202);
      const calendars = await call('GET', '/v1/calendars');
      assert.ok(!JSON.stringify(calendars.json).includes(calendarId));
      const profiles = await call('GET', '/v1/profiles');
      assert.deepEqual(
        profiles.json.profiles?.map((p) => p.provider_name),
        ['calpush'],
      );
      assert.equal((await call('GET', `/v1/sources/${sourceId}`)).status, 404);
    });
  });
}

test('a feed that is not there is a 422 on url, in Cronofy format', async () => {
  const h = await startHarness();
  try {
    const account = await createTestAccount(h.service);
    const response = await h.service.app.request('/v1/sources', {
      method: 'POST',
      headers: {
        authorization: `Bearer ${account.accessToken}`,
        'content-type': 'application/json',
      },
      body: JSON.stringify({ provider: 'ics', url: 'http://127.0.0.1:9/none.ics' }),
    });
    assert.equal(response.status, 422);
    const body = (await response.json()) as { errors: Record<string, unknown> };
    assert.deepEqual(Object.keys(body.errors), ['url']);
  } finally {
    await h.close();
  }
});

test('a password sealed under another key fails its source alone, and a new password mends it', async () => {
  const feed = new Feed();
  await feed.start();
  feed.publish([vevent('k@test', 'Keyed', 9)]);
  const h = await startHarness();
  try {
    const account = await createTestAccount(h.service);
    const call = (method: string, path: string, body?: unknown) =>
      callApi<Json>(h.service, account.accessToken, method, path, body);
    const keyed = await call('POST', '/v1/sources', {
      provider: 'ics',
      url: feed.url,
      username: 'u',
      password: 'p',
    });
    const open = await call('POST', '/v1/sources', { provider: 'ics', url: `${feed.url}?b` });
    const keyedId = keyed.json.source!.source_id;
    // As if sealed by a node with another key, or restored without this one.
    await h.service.store.db
      .updateTable('sources')
      .set({ sealed_password: createSecretBox(randomBytes(32)).seal('p') })
      .where('id', '=', keyedId)
      .execute();
    await h.service.sources.runUntilIdle();
    const failing = await call('GET', `/v1/sources/${keyedId}`);
    assert.equal(failing.json.source?.state, 'failing');
    assert.match(failing.json.source?.last_error ?? '', /PATCH the password/);
    const other = await call('GET', `/v1/sources/${open.json.source!.source_id}`);
    assert.equal(other.json.source?.state, 'connected');
    const patched = await call('PATCH', `/v1/sources/${keyedId}`, { password: 'new' });
    assert.equal(patched.status, 200);
    await h.service.sources.runUntilIdle();
    assert.equal((await call('GET', `/v1/sources/${keyedId}`)).json.source?.state, 'connected');
  } finally {
    await h.close();
    await feed.close();
  }
});

test('outside dev mode a password is not sent over plain http', async () => {
  const h = await startHarness({ config: { dev: false } });
  try {
    const account = await createTestAccount(h.service);
    const response = await h.service.app.request('/v1/sources', {
      method: 'POST',
      headers: {
        authorization: `Bearer ${account.accessToken}`,
        'content-type': 'application/json',
      },
      body: JSON.stringify({
        provider: 'caldav',
        url: 'http://dav.example.com/',
        username: 'ada',
        password: 'secret',
      }),
    });
    assert.equal(response.status, 422);
    const body = (await response.json()) as {
      errors: Record<string, { description: string }[]>;
    };
    assert.match(body.errors.url?.[0]?.description ?? '', /only sent over https/);
  } finally {
    await h.close();
  }
});
