import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Harness, TestAccount } from './support/harness.ts';
import { createTestAccount, startHarness, watchAccount } from './support/harness.ts';
import { Receiver } from './support/receiver.ts';
import { callApi, settleSources } from './support/api.ts';
import { Radicale, RadicaleUser } from './support/radicale.ts';
import { eventIcs, vcalendar } from './support/ical-stand-in.ts';
import { ManualClock } from '../src/domain/clock.ts';
import { createService } from '../src/service.ts';
import { loadConfig } from '../src/config/config.ts';
import { createLogger } from '../src/log.ts';
import { leaseDueSources } from '../src/core/source-sync.ts';

interface Json {
  source?: { source_id: string; state: string; calendar_ids: string[] };
  events?: { event_uid: string; summary: string; deleted: boolean }[];
  items?: { id: string; summary?: string; status?: string; recurringEventId?: string }[];
  nextSyncToken?: string;
  calendars?: { calendar_id: string; calendar_name: string; calendar_readonly: boolean }[];
  errors?: Record<string, unknown>;
}

describe('a CalDAV server (Radicale) as a source, through both faces', () => {
  const clock = new ManualClock(Date.UTC(2026, 11, 6, 9, 0, 0));
  let radicale: Radicale;
  let dav: RadicaleUser;
  let work = '';
  let h: Harness;
  let receiver: Receiver;
  let account: TestAccount;
  let sourceId = '';
  let calendarId = '';

  const call = (method: string, path: string, body?: unknown) =>
    callApi<Json>(h.service, account.accessToken, method, path, body);
  const settle = () => settleSources(h.service, clock);
  const pollNow = async () => {
    assert.equal((await call('POST', `/v1/sources/${sourceId}/poll`)).status, 202);
    await settle();
  };
  const notified = () => receiver.notificationTypes();
  const syncToken = async () =>
    (await call('GET', `/calendar/v3/calendars/${calendarId}/events`)).json.nextSyncToken!;
  const changesSince = async (token: string) =>
    (
      await call(
        'GET',
        `/calendar/v3/calendars/${calendarId}/events?syncToken=${encodeURIComponent(token)}`,
      )
    ).json.items ?? [];

  before(async () => {
    radicale = await Radicale.start();
    await radicale.addUser('ada', 'first-password');
    dav = new RadicaleUser(radicale, 'ada', 'first-password');
    work = await dav.mkcalendar('work', { name: 'Work' });
    await dav.put(work, 'standup.ics', eventIcs('standup@test', 'Stand-up'));
    h = await startHarness({ clock });
    receiver = await Receiver.start();
    account = await createTestAccount(h.service);
    await watchAccount(h.service, account, receiver.url);
    await h.service.dispatcher.runUntilIdle();
    clock.advance(1000);
  });
  after(async () => {
    await h.close();
    await receiver.close();
    await radicale.stop();
  });

  test('a password the server refuses is a 422 on password', async () => {
    const refused = await call('POST', '/v1/sources', {
      provider: 'caldav',
      url: radicale.url,
      username: 'ada',
      password: 'wrong',
    });
    assert.equal(refused.status, 422);
    assert.deepEqual(Object.keys(refused.json.errors ?? {}), ['password']);
  });

  test('connected from the server root, the first sync imports the calendar', async () => {
    const created = await call('POST', '/v1/sources', {
      provider: 'caldav',
      url: radicale.url,
      username: 'ada',
      password: 'first-password',
    });
    assert.equal(created.status, 201);
    sourceId = created.json.source!.source_id;
    calendarId = created.json.source!.calendar_ids[0]!;
    await settle();
    assert.equal((await call('GET', `/v1/sources/${sourceId}`)).json.source?.state, 'connected');
    const calendars = await call('GET', '/v1/calendars');
    const work = calendars.json.calendars?.find((c) => c.calendar_id === calendarId);
    assert.equal(work?.calendar_name, 'Work');
    assert.equal(work?.calendar_readonly, true);
    const events = await call(
      'GET',
      `/v1/events?tzid=Etc/UTC&calendar_ids[]=${calendarId}&from=2026-11-01&to=2027-01-01`,
    );
    assert.deepEqual(
      events.json.events?.map((e) => e.summary),
      ['Stand-up'],
    );
    assert.ok(notified().includes('profile_initial_sync_completed'));
  });

  test('an event created, changed and deleted upstream: each a notification and that event alone', async () => {
    let token = await syncToken();
    let before = receiver.requests.length;
    const createdAt = clock.now();
    await dav.put(
      work,
      'review.ics',
      eventIcs('review@test', 'Review', '20261202T090000Z', '20261202T100000Z'),
    );
    await pollNow();
    assert.deepEqual(notified().slice(before), ['change']);
    assert.deepEqual(
      (await changesSince(token)).map((i) => i.summary),
      ['Review'],
    );
    const cronofy = await call(
      'GET',
      `/v1/events?tzid=Etc/UTC&calendar_ids[]=${calendarId}&last_modified=${new Date(createdAt).toISOString()}`,
    );
    assert.deepEqual(
      cronofy.json.events?.map((e) => e.summary),
      ['Review'],
    );

    token = await syncToken();
    before = receiver.requests.length;
    await dav.put(
      work,
      'review.ics',
      eventIcs('review@test', 'Review moved', '20261203T090000Z', '20261203T100000Z'),
    );
    await pollNow();
    assert.deepEqual(notified().slice(before), ['change']);
    const changed = await changesSince(token);
    assert.deepEqual(
      changed.map((i) => i.summary),
      ['Review moved'],
    );

    token = await syncToken();
    before = receiver.requests.length;
    await dav.delete(`${work}review.ics`);
    await pollNow();
    assert.deepEqual(notified().slice(before), ['change']);
    assert.deepEqual(
      (await changesSince(token)).map((i) => [i.id, i.status]),
      [[changed[0]?.id, 'cancelled']],
    );

    before = receiver.requests.length;
    await pollNow();
    assert.equal(receiver.requests.length, before, 'an idle poll notifies no one');
  });

  test('a series with an EXDATE and a moved occurrence keeps the override with its series', async () => {
    const token = await syncToken();
    await dav.put(
      work,
      'weekly.ics',
      vcalendar([
        'BEGIN:VEVENT',
        'UID:weekly@test',
        'DTSTAMP:20261101T000000Z',
        'DTSTART:20261207T090000Z',
        'DTEND:20261207T093000Z',
        'RRULE:FREQ=WEEKLY;COUNT=4',
        'EXDATE:20261214T090000Z',
        'SUMMARY:Weekly',
        'END:VEVENT',
        'BEGIN:VEVENT',
        'UID:weekly@test',
        'DTSTAMP:20261101T000000Z',
        'RECURRENCE-ID:20261221T090000Z',
        'DTSTART:20261221T110000Z',
        'DTEND:20261221T113000Z',
        'SUMMARY:Weekly (moved)',
        'END:VEVENT',
      ]),
    );
    await pollNow();
    const items = await changesSince(token);
    const series = items.find((i) => i.summary === 'Weekly');
    const moved = items.find((i) => i.summary === 'Weekly (moved)');
    assert.ok(series && moved);
    assert.equal(moved.recurringEventId, series.id);
  });

  test('a calendar created upstream appears here', async () => {
    await dav.mkcalendar('home', { name: 'Home' });
    await pollNow();
    const source = await call('GET', `/v1/sources/${sourceId}`);
    assert.equal(source.json.source?.calendar_ids.length, 2);
    const calendars = await call('GET', '/v1/calendars');
    assert.ok(calendars.json.calendars?.some((c) => c.calendar_name === 'Home'));
  });

  test('an event moved to another resource of its calendar stays, with its id', async () => {
    await dav.put(work, 'one-off.ics', eventIcs('one-off@test', 'One-off'));
    await pollNow();
    const token = await syncToken();
    const before = (await call('GET', `/calendar/v3/calendars/${calendarId}/events`)).json.items;
    const id = before?.find((i) => i.summary === 'One-off')?.id;
    // Moved between two polls: removed under its old name, written under a new one (Radicale
    // refuses a second resource with the same UID, as RFC 4791 says).
    await dav.delete(`${work}one-off.ics`);
    await dav.put(work, 'renamed.ics', eventIcs('one-off@test', 'One-off'));
    await pollNow();
    assert.deepEqual(await changesSince(token), [], 'the event was neither removed nor changed');
    const after = (await call('GET', `/calendar/v3/calendars/${calendarId}/events`)).json.items;
    assert.equal(after?.find((i) => i.summary === 'One-off')?.id, id);
  });

  test('a calendar removed upstream and made again comes back with its id', async () => {
    const home = `${dav.base}home/`;
    const before = (await call('GET', `/v1/sources/${sourceId}`)).json.source?.calendar_ids ?? [];
    await dav.delete(home);
    await pollNow();
    assert.equal(
      (await call('GET', `/v1/sources/${sourceId}`)).json.source?.calendar_ids.length,
      1,
    );
    await dav.mkcalendar('home', { name: 'Home' });
    await pollNow();
    const after = (await call('GET', `/v1/sources/${sourceId}`)).json.source?.calendar_ids ?? [];
    assert.deepEqual([...after].sort(), [...before].sort());
  });

  test('a password changed upstream disconnects once; PATCH reconnects without a full resync', async () => {
    await radicale.setPassword('ada', 'second-password');
    const before = receiver.requests.length;
    await pollNow();
    assert.equal((await call('GET', `/v1/sources/${sourceId}`)).json.source?.state, 'disconnected');
    assert.deepEqual(notified().slice(before), ['profile_disconnected']);
    // A disconnected source is not polled again until it has credentials that work.
    clock.advance(10 * 60 * 1000);
    await settle();
    assert.deepEqual(notified().slice(before), ['profile_disconnected']);
    assert.equal((await call('POST', `/v1/sources/${sourceId}/poll`)).status, 422);

    const token = await syncToken();
    const patched = await call('PATCH', `/v1/sources/${sourceId}`, { password: 'second-password' });
    assert.equal(patched.status, 200);
    assert.equal(patched.json.source?.state, 'connected');
    await settle();
    assert.deepEqual(await changesSince(token), [], 'nothing was imported again');
    assert.deepEqual(notified().slice(before), ['profile_disconnected']);
  });
});

test('a restart in the middle of a first sync finishes it once, from the stored cursors', async () => {
  const radicale = await Radicale.start();
  const dataDir = mkdtempSync(join(tmpdir(), 'calpush-restart-'));
  const clock = new ManualClock(Date.UTC(2026, 11, 6, 9, 0, 0));
  const open = () =>
    createService(loadConfig({ dev: true, dataDir, logLevel: 'silent', port: 0 }, {}), {
      clock,
      logger: createLogger('silent'),
    });
  try {
    await radicale.addUser('bob', 'pw');
    const dav = new RadicaleUser(radicale, 'bob', 'pw');
    const cal = await dav.mkcalendar('c', { name: 'C' });
    for (const n of [1, 2, 3]) await dav.put(cal, `e${n}.ics`, eventIcs(`e${n}@test`, `E${n}`));
    let service = await open();
    const account = await createTestAccount(service);
    const created = await service.app.request('/v1/sources', {
      method: 'POST',
      headers: {
        authorization: `Bearer ${account.accessToken}`,
        'content-type': 'application/json',
      },
      body: JSON.stringify({ provider: 'caldav', url: cal, username: 'bob', password: 'pw' }),
    });
    assert.equal(created.status, 201);
    // The poll was leased, then the process went away before recording it.
    const leased = await leaseDueSources(service.core, {
      now: clock.now(),
      limit: 10,
      leaseMs: 5 * 60 * 1000,
      lockRows: false,
    });
    assert.equal(leased.length, 1);
    await service.stop();

    clock.advance(6 * 60 * 1000);
    service = await open();
    await service.sources.runUntilIdle();
    const source = (await (
      await service.app.request('/v1/sources', {
        headers: { authorization: `Bearer ${account.accessToken}` },
      })
    ).json()) as { sources: { state: string; calendar_ids: string[] }[] };
    assert.equal(source.sources[0]?.state, 'connected');
    const events = (await (
      await service.app.request(
        `/v1/events?tzid=Etc/UTC&from=2026-11-01&to=2027-01-01&calendar_ids[]=${source.sources[0]?.calendar_ids[0]}`,
        { headers: { authorization: `Bearer ${account.accessToken}` } },
      )
    ).json()) as { events: { summary: string }[] };
    assert.deepEqual(events.events.map((e) => e.summary).sort(), ['E1', 'E2', 'E3']);
    const profileNotices = await service.store.db
      .selectFrom('changes')
      .select('seq')
      .where('account_id', '=', account.accountId)
      .where('resource', '=', 'profile')
      .execute();
    assert.equal(profileNotices.length, 1, 'one initial sync completed');
    await service.stop();
  } finally {
    await radicale.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
});
