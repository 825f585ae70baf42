import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Harness, TestAccount } from './support/harness.ts';
import { createTestAccount, startHarness, watchAccount } from './support/harness.ts';
import { Receiver } from './support/receiver.ts';
import { GoogleOAuthStandIn } from './support/google-oauth.ts';
import { callApi, settleSources } from './support/api.ts';
import { ManualClock } from '../src/domain/clock.ts';

interface Json {
  source?: { source_id: string; state: string; calendar_ids: string[]; last_error: string | null };
  events?: { event_uid: string; summary: string; deleted: boolean; start: unknown }[];
  items?: {
    id: string;
    summary?: string;
    status?: string;
    recurringEventId?: string;
    start?: { date?: string; dateTime?: string };
  }[];
  id?: string;
  nextSyncToken?: string;
  profiles?: { provider_name: string; profile_connected: boolean; profile_name: string }[];
  errors?: Record<string, { key: string; description: string }[]>;
}

/** The upstream: a calpush whose Google face plays Google Calendar. */
async function upstreamEvent(
  a: Harness,
  account: TestAccount,
  method: string,
  path: string,
  body?: unknown,
) {
  const response = await callApi<Json>(
    a.service,
    account.accessToken,
    method,
    `/calendar/v3/calendars/${encodeURIComponent(account.calendarId)}/events${path}`,
    body,
  );
  assert.ok(response.status < 300, `upstream ${method} ${path}: ${response.status}`);
  return response.json;
}

describe('a Google Calendar account as a source, another calpush upstream', () => {
  const clock = new ManualClock(Date.UTC(2026, 11, 6, 9, 0, 0));
  const oauth = new GoogleOAuthStandIn();
  let a: Harness;
  let b: Harness;
  let upstream: TestAccount;
  let account: TestAccount;
  let receiver: Receiver;
  let sourceId = '';
  let calendarId = '';
  let seriesId = '';
  let singleId = '';

  const call = (method: string, path: string, body?: unknown) =>
    callApi<Json>(b.service, account.accessToken, method, path, body);
  const settle = () => settleSources(b.service, clock);
  const pollNow = async () => {
    assert.equal((await call('POST', `/v1/sources/${sourceId}/poll`)).status, 202);
    await settle();
  };
  const notified = () => receiver.notificationTypes();
  const mirrored = async () => {
    const events = await call(
      'GET',
      `/calendar/v3/calendars/${calendarId}/events?singleEvents=true&timeMin=2026-12-01T00:00:00Z&timeMax=2027-01-01T00:00:00Z`,
    );
    return events.json.items ?? [];
  };

  before(async () => {
    await oauth.start();
    a = await startHarness({ listen: true });
    upstream = await createTestAccount(a.service, 'upstream@example.com');
    oauth.grants.set('rt-1', upstream.accessToken);
    oauth.expiresInSeconds = 600;
    b = await startHarness({
      clock,
      random: () => 0.5,
      env: {
        CALPUSH_GOOGLE_API_URL: `${a.url}/calendar/v3`,
        CALPUSH_GOOGLE_OAUTH_URL: oauth.url,
        CALPUSH_GOOGLE_AUTH_URL: oauth.url,
        CALPUSH_GOOGLE_CLIENT_ID: oauth.clientId,
        CALPUSH_GOOGLE_CLIENT_SECRET: oauth.clientSecret,
      },
    });
    account = await createTestAccount(b.service, 'downstream@example.com');
    receiver = await Receiver.start();
    await watchAccount(b.service, account, receiver.url);
    await b.service.dispatcher.runUntilIdle();

    const series = await upstreamEvent(a, upstream, 'POST', '', {
      summary: 'One-to-one',
      start: { dateTime: '2026-12-07T10:00:00', timeZone: 'Europe/Paris' },
      end: { dateTime: '2026-12-07T10:30:00', timeZone: 'Europe/Paris' },
      recurrence: ['RRULE:FREQ=WEEKLY;COUNT=4'],
    });
    seriesId = series.id!;
    await upstreamEvent(a, upstream, 'PATCH', `/${seriesId}_20261214T090000Z`, {
      summary: 'One-to-one (moved)',
      start: { dateTime: '2026-12-15T14:00:00', timeZone: 'Europe/Paris' },
      end: { dateTime: '2026-12-15T14:30:00', timeZone: 'Europe/Paris' },
    });
    await upstreamEvent(a, upstream, 'DELETE', `/${seriesId}_20261221T090000Z`);
    const single = await upstreamEvent(a, upstream, 'POST', '', {
      summary: 'Review',
      start: { dateTime: '2026-12-08T15:00:00Z' },
      end: { dateTime: '2026-12-08T16:00:00Z' },
    });
    singleId = single.id!;
    await upstreamEvent(a, upstream, 'POST', '', {
      summary: 'Holiday',
      start: { date: '2026-12-24' },
      end: { date: '2026-12-26' },
    });
  });
  after(async () => {
    await b?.close();
    await a?.close();
    await receiver?.close();
    await oauth.close();
  });

  test('bad connect requests are told in Cronofy errors', async () => {
    const missing = await call('POST', '/v1/sources', { provider: 'google' });
    assert.equal(missing.status, 422);
    assert.ok(missing.json.errors?.['refresh_token']);
    const withUrl = await call('POST', '/v1/sources', {
      provider: 'google',
      refresh_token: 'rt-1',
      url: 'https://example.com/',
    });
    assert.equal(withUrl.status, 422);
    assert.ok(withUrl.json.errors?.['url']);
    const refused = await call('POST', '/v1/sources', {
      provider: 'google',
      refresh_token: 'nope',
    });
    assert.equal(refused.status, 422);
    assert.match(refused.json.errors?.['refresh_token']?.[0]?.description ?? '', /invalid_grant/);
  });

  test('connecting with a refresh token, then the first sync imports every calendar', async () => {
    const created = await call('POST', '/v1/sources', {
      provider: 'google',
      refresh_token: 'rt-1',
    });
    assert.equal(created.status, 201, JSON.stringify(created.json));
    assert.equal(created.json.source?.state, 'initial_sync');
    sourceId = created.json.source.source_id;
    calendarId = created.json.source.calendar_ids[0]!;
    await settle();
    const source = await call('GET', `/v1/sources/${sourceId}`);
    assert.equal(source.json.source?.state, 'connected', source.json.source?.last_error ?? '');
    const items = await mirrored();
    assert.deepEqual(
      items.map((e) => [e.summary, e.start?.date ?? e.start?.dateTime]),
      [
        ['One-to-one', '2026-12-07T10:00:00+01:00'],
        ['Review', '2026-12-08T15:00:00Z'],
        ['One-to-one (moved)', '2026-12-15T14:00:00'],
        ['Holiday', '2026-12-24'],
        ['One-to-one', '2026-12-28T10:00:00+01:00'],
      ],
    );
    assert.ok(notified().includes('profile_initial_sync_completed'));
    const profiles = await call('GET', '/v1/profiles');
    assert.deepEqual(
      profiles.json.profiles?.map((p) => [p.provider_name, p.profile_connected]),
      [
        ['calpush', true],
        ['google', true],
      ],
    );
    // The mirror is read-only.
    const write = await call('POST', `/v1/calendars/${calendarId}/events`, {
      event_id: 'mine',
      summary: 'x',
      start: '2026-12-09T09:00:00Z',
      end: '2026-12-09T10:00:00Z',
    });
    assert.equal(write.status, 403);
  });

  test('a change upstream reaches a Cronofy channel downstream, ids unchanged', async () => {
    const idsBefore = new Map((await mirrored()).map((e) => [e.summary, e.id]));
    const sync = await call('GET', `/calendar/v3/calendars/${calendarId}/events`);
    const before = receiver.requests.length;
    await upstreamEvent(a, upstream, 'PATCH', `/${singleId}`, { summary: 'Review (moved)' });
    await pollNow();
    assert.deepEqual(notified().slice(before), ['change']);
    const since = await call(
      'GET',
      `/calendar/v3/calendars/${calendarId}/events?syncToken=${encodeURIComponent(sync.json.nextSyncToken!)}`,
    );
    assert.deepEqual(
      since.json.items?.map((i) => i.summary),
      ['Review (moved)'],
    );
    const idsAfter = new Map((await mirrored()).map((e) => [e.summary, e.id]));
    assert.equal(idsAfter.get('Review (moved)'), idsBefore.get('Review'));
    assert.equal(idsAfter.get('Holiday'), idsBefore.get('Holiday'));

    // An idle poll asks with the sync token and notifies no one.
    const quiet = receiver.requests.length;
    await pollNow();
    assert.equal(receiver.requests.length, quiet);
  });

  test('an event deleted upstream is deleted downstream', async () => {
    const sync = await call('GET', `/calendar/v3/calendars/${calendarId}/events`);
    const holiday = await upstreamEvent(a, upstream, 'POST', '', {
      summary: 'Party',
      start: { date: '2026-12-31' },
      end: { date: '2027-01-01' },
    });
    await pollNow();
    const partyId = (await mirrored()).find((e) => e.summary === 'Party')?.id;
    assert.ok(partyId);
    await upstreamEvent(a, upstream, 'DELETE', `/${holiday.id!}`);
    await pollNow();
    assert.ok(!(await mirrored()).some((e) => e.summary === 'Party'));
    const since = await call(
      'GET',
      `/calendar/v3/calendars/${calendarId}/events?syncToken=${encodeURIComponent(sync.json.nextSyncToken!)}`,
    );
    assert.deepEqual(
      since.json.items?.map((i) => [i.id, i.status]),
      [[partyId, 'cancelled']],
    );
  });

  test('a sync token the upstream refuses (410) leads to a full listing that hands on only the differences', async () => {
    // The stored cursor goes bad, as when the upstream forgets its sync tokens.
    await b.service.core.write((trx) =>
      trx
        .updateTable('source_calendars')
        .set({ cursor_json: JSON.stringify({ v: 1, syncToken: 'forgotten' }) })
        .where('source_id', '=', sourceId)
        .execute(),
    );
    const sync = await call('GET', `/calendar/v3/calendars/${calendarId}/events`);
    const before = receiver.requests.length;
    await upstreamEvent(a, upstream, 'PATCH', `/${singleId}`, { summary: 'Review (again)' });
    await pollNow();
    assert.equal((await call('GET', `/v1/sources/${sourceId}`)).json.source?.state, 'connected');
    assert.deepEqual(notified().slice(before), ['change']);
    const since = await call(
      'GET',
      `/calendar/v3/calendars/${calendarId}/events?syncToken=${encodeURIComponent(sync.json.nextSyncToken!)}`,
    );
    assert.deepEqual(
      since.json.items?.map((i) => i.summary),
      ['Review (again)'],
    );
    const cursor = await b.service.core.db
      .selectFrom('source_calendars')
      .select('cursor_json')
      .where('source_id', '=', sourceId)
      .executeTakeFirstOrThrow();
    assert.notEqual(
      (JSON.parse(cursor.cursor_json!) as { syncToken: string }).syncToken,
      'forgotten',
    );
  });

  test('access tokens are refreshed before they end, not at every poll', async () => {
    const refreshedAt: number[] = [];
    let seen = oauth.refreshes;
    // Twenty polls a minute apart, with ten-minute tokens refreshed five minutes early.
    for (let i = 0; i < 20; i++) {
      clock.advance(60_000);
      await pollNow();
      if (oauth.refreshes > seen) refreshedAt.push(clock.now());
      seen = oauth.refreshes;
    }
    assert.ok(refreshedAt.length >= 3 && refreshedAt.length <= 5, String(refreshedAt.length));
    for (let i = 1; i < refreshedAt.length; i++) {
      const gap = refreshedAt[i]! - refreshedAt[i - 1]!;
      assert.ok(gap >= 5 * 60_000 && gap < 10 * 60_000, `refreshed ${gap} ms apart`);
    }
    assert.equal((await call('GET', `/v1/sources/${sourceId}`)).json.source?.state, 'connected');
  });

  test('a refused refresh disconnects the profile, with one profile_disconnected', async () => {
    oauth.refused.add('rt-1');
    const before = receiver.requests.length;
    // Past the cached access token's end: the next poll must refresh it.
    clock.advance(11 * 60_000);
    await settle();
    const source = await call('GET', `/v1/sources/${sourceId}`);
    assert.equal(source.json.source?.state, 'disconnected');
    assert.match(source.json.source?.last_error ?? '', /invalid_grant/);
    assert.deepEqual(notified().slice(before), ['profile_disconnected']);
    clock.advance(60 * 60_000);
    await settle();
    assert.deepEqual(notified().slice(before), ['profile_disconnected']);
    const profiles = await call('GET', '/v1/profiles');
    assert.deepEqual(
      profiles.json.profiles?.map((p) => [p.provider_name, p.profile_connected]),
      [
        ['calpush', true],
        ['google', false],
      ],
    );
  });

  test('a new refresh token connects it again, from its stored sync tokens', async () => {
    oauth.grants.set('rt-2', upstream.accessToken);
    const patched = await call('PATCH', `/v1/sources/${sourceId}`, { refresh_token: 'rt-2' });
    assert.equal(patched.status, 200, JSON.stringify(patched.json));
    await settle();
    assert.equal((await call('GET', `/v1/sources/${sourceId}`)).json.source?.state, 'connected');
    const wrong = await call('PATCH', `/v1/sources/${sourceId}`, { password: 'x' });
    assert.equal(wrong.status, 422);
  });
});
