import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { auth, calendar } from '@googleapis/calendar';
import type { Harness, TestAccount } from './support/harness.ts';
import type { ReceivedRequest } from './support/receiver.ts';
import { createTestAccount, startHarness } from './support/harness.ts';
import { Receiver } from './support/receiver.ts';

/** The one change an existing integration makes: rootUrl points at calpush. */
function clientFor(h: Harness, accessToken: string) {
  const oauth = new auth.OAuth2();
  oauth.setCredentials({ access_token: accessToken });
  return calendar({ version: 'v3', rootUrl: `${h.url}/`, auth: oauth });
}

interface ApiFailure {
  status: number;
  response: { data: { error: { code: number; errors: Record<string, string>[] } } };
}

async function failure(promise: Promise<unknown>): Promise<ApiFailure> {
  try {
    await promise;
  } catch (err) {
    return err as ApiFailure;
  }
  assert.fail('expected the call to fail');
}

const at = (hour: number) => ({
  start: { dateTime: `2026-12-01T${String(hour).padStart(2, '0')}:00:00Z` },
  end: { dateTime: `2026-12-01T${String(hour + 1).padStart(2, '0')}:00:00Z` },
});

const on = (path: string) => (r: ReceivedRequest) => r.path === path;

describe('Google face through the official @googleapis/calendar client', () => {
  let h: Harness;
  let receiver: Receiver;
  let account: TestAccount;
  let api: ReturnType<typeof clientFor>;

  before(async () => {
    h = await startHarness({ listen: true, start: true });
    receiver = await Receiver.start();
    account = await createTestAccount(h.service);
    api = clientFor(h, account.accessToken);
  });
  after(async () => {
    await h.close();
    await receiver.close();
  });

  test('full sync in pages, then incremental sync after a patch and a delete', async () => {
    const cal = await api.calendars.insert({
      requestBody: { summary: 'Sync', timeZone: 'Europe/Paris' },
    });
    const calendarId = cal.data.id!;
    assert.equal(cal.data.kind, 'calendar#calendar');
    const ids: string[] = [];
    for (const hour of [9, 10, 11]) {
      const { data } = await api.events.insert({
        calendarId,
        requestBody: { summary: `E${hour}`, location: 'Room 1', ...at(hour) },
      });
      assert.equal(data.kind, 'calendar#event');
      assert.match(data.etag!, /^"\d+"$/);
      assert.equal(data.status, 'confirmed');
      assert.equal(data.sequence, 0);
      ids.push(data.id!);
    }

    const first = await api.events.list({ calendarId, maxResults: 2 });
    assert.equal(first.data.kind, 'calendar#events');
    assert.equal(first.data.items!.length, 2);
    assert.ok(first.data.nextPageToken);
    assert.equal(first.data.nextSyncToken, undefined);
    const second = await api.events.list({
      calendarId,
      maxResults: 2,
      pageToken: first.data.nextPageToken,
    });
    assert.deepEqual(
      [...first.data.items!, ...second.data.items!].map((e) => e.id),
      ids,
    );
    assert.equal(second.data.nextPageToken, undefined);
    const syncToken = second.data.nextSyncToken!;
    assert.ok(syncToken);

    const patched = await api.events.patch({
      calendarId,
      eventId: ids[0]!,
      requestBody: { summary: 'Moved' },
    });
    assert.equal(patched.data.summary, 'Moved');
    assert.equal(patched.data.location, 'Room 1');
    assert.equal(patched.data.sequence, 1);
    await api.events.delete({ calendarId, eventId: ids[1]! });

    const delta = await api.events.list({ calendarId, syncToken });
    const byId = new Map(delta.data.items!.map((e) => [e.id, e]));
    assert.equal(byId.size, 2);
    assert.equal(byId.get(ids[0])?.summary, 'Moved');
    assert.equal(byId.get(ids[1])?.status, 'cancelled');
    const quiet = await api.events.list({ calendarId, syncToken: delta.data.nextSyncToken! });
    assert.deepEqual(quiet.data.items, []);

    const full = await api.events.list({ calendarId });
    assert.deepEqual(
      full.data.items!.map((e) => e.id),
      [ids[0], ids[2]],
    );
    const withDeleted = await api.events.list({ calendarId, showDeleted: true });
    assert.equal(withDeleted.data.items!.length, 3);

    const gone = await failure(api.events.delete({ calendarId, eventId: ids[1]! }));
    assert.equal(gone.status, 410);
  });

  test('parameter rules: 400 with the parameter named, 410 fullSyncRequired for a bad token', async () => {
    const calendarId = 'primary';
    const { data } = await api.events.list({ calendarId });
    const mixed = await failure(
      api.events.list({
        calendarId,
        syncToken: data.nextSyncToken!,
        timeMin: '2026-01-01T00:00:00Z',
      }),
    );
    assert.equal(mixed.status, 400);
    assert.deepEqual(mixed.response.data.error.errors[0], {
      domain: 'global',
      reason: 'invalid',
      message: 'timeMin cannot be used together with syncToken.',
      locationType: 'parameter',
      location: 'timeMin',
    });
    const tampered = `${data.nextSyncToken!.slice(0, -2)}xx`;
    const expired = await failure(api.events.list({ calendarId, syncToken: tampered }));
    assert.equal(expired.status, 410);
    assert.equal(expired.response.data.error.errors[0]!.reason, 'fullSyncRequired');
    const zero = await failure(api.events.list({ calendarId, maxResults: 0 }));
    assert.equal(zero.status, 400);
    const order = await failure(api.events.list({ calendarId, orderBy: 'startTime' }));
    assert.equal(order.status, 400);
    const missing = await failure(api.events.get({ calendarId, eventId: 'evtnothere0' }));
    assert.equal(missing.status, 404);
    assert.equal(missing.response.data.error.errors[0]!.reason, 'notFound');
    const noEnd = await failure(
      api.events.insert({ calendarId, requestBody: { start: at(9).start } }),
    );
    assert.equal(noEnd.status, 400);
  });

  test('401 in Google envelope for a bad token', async () => {
    const bad = await failure(clientFor(h, 'tok_nope').calendarList.list());
    assert.equal(bad.status, 401);
    assert.deepEqual(bad.response.data.error.errors[0], {
      domain: 'global',
      reason: 'authError',
      message: 'Invalid Credentials',
      locationType: 'header',
      location: 'Authorization',
    });
  });

  test('watch: sync then exists with exact headers; stop; nothing after stop', async () => {
    const address = `${receiver.url}/watch-a`;
    const control = `${receiver.url}/watch-b`;
    const before = Date.now();
    const { data: channel } = await api.events.watch({
      calendarId: 'primary',
      requestBody: {
        id: 'chan-a',
        type: 'web_hook',
        address,
        token: 'target=a',
        params: { ttl: '3600' },
      },
    });
    assert.equal(channel.kind, 'api#channel');
    assert.equal(channel.id, 'chan-a');
    assert.equal(channel.token, 'target=a');
    assert.equal(typeof channel.expiration, 'string');
    const expiration = Number(channel.expiration);
    assert.ok(expiration >= before + 3600_000 && expiration <= Date.now() + 3600_000);
    assert.equal(
      channel.resourceUri,
      `${h.url}/calendar/v3/calendars/${account.calendarId}/events?alt=json`,
    );

    await receiver.waitFor((rs) => rs.some(on('/watch-a')));
    const sync = receiver.requests.find(on('/watch-a'))!;
    assert.equal(sync.method, 'POST');
    assert.equal(sync.body, '');
    assert.equal(sync.headers['x-goog-channel-id'], 'chan-a');
    assert.equal(sync.headers['x-goog-message-number'], '1');
    assert.equal(sync.headers['x-goog-resource-state'], 'sync');
    assert.equal(sync.headers['x-goog-resource-id'], channel.resourceId);
    assert.equal(sync.headers['x-goog-resource-uri'], channel.resourceUri);
    assert.equal(sync.headers['x-goog-channel-token'], 'target=a');
    assert.equal(sync.headers['x-goog-channel-expiration'], new Date(expiration).toUTCString());

    const dup = await failure(
      api.events.watch({
        calendarId: 'primary',
        requestBody: { id: 'chan-a', type: 'web_hook', address },
      }),
    );
    assert.equal(dup.status, 400);
    assert.equal(dup.response.data.error.errors[0]!.reason, 'channelIdNotUnique');

    await api.events.insert({ calendarId: 'primary', requestBody: { summary: 'ping', ...at(13) } });
    await receiver.waitFor((rs) => rs.filter(on('/watch-a')).length >= 2);
    const exists = receiver.requests.filter(on('/watch-a'))[1]!;
    assert.equal(exists.headers['x-goog-resource-state'], 'exists');
    assert.ok(Number(exists.headers['x-goog-message-number']) > 1);
    assert.equal(exists.body, '');

    const other = await createTestAccount(h.service, 'intruder@example.com');
    const denied = await failure(
      clientFor(h, other.accessToken).channels.stop({
        requestBody: { id: 'chan-a', resourceId: channel.resourceId! },
      }),
    );
    assert.equal(denied.status, 403);

    await api.events.watch({
      calendarId: 'primary',
      requestBody: { id: 'chan-b', type: 'webhook', address: control },
    });
    await receiver.waitFor((rs) => rs.some(on('/watch-b')));
    const listed = await fetch(`${h.url}/calendar/v3/channels`, {
      headers: { authorization: `Bearer ${account.accessToken}` },
    });
    const channels = (await listed.json()) as {
      items: { id: string; health: { state: string } }[];
    };
    assert.deepEqual(
      channels.items.map((c) => [c.id, c.health.state]),
      [
        ['chan-a', 'healthy'],
        ['chan-b', 'healthy'],
      ],
    );

    const stopped = await api.channels.stop({
      requestBody: { id: 'chan-a', resourceId: channel.resourceId! },
    });
    assert.equal(stopped.status, 204);
    const again = await failure(
      api.channels.stop({ requestBody: { id: 'chan-a', resourceId: channel.resourceId! } }),
    );
    assert.equal(again.status, 404);

    const countA = receiver.requests.filter(on('/watch-a')).length;
    await api.events.insert({
      calendarId: 'primary',
      requestBody: { summary: 'after', ...at(15) },
    });
    await receiver.waitFor((rs) => rs.filter(on('/watch-b')).length >= 2);
    assert.equal(receiver.requests.filter(on('/watch-a')).length, countA);
    await api.channels.stop({ requestBody: { id: 'chan-b' } });
  });

  test('calendarList, acl and not_exists notifications; calendarList incremental sync', async () => {
    const { data: list } = await api.calendarList.list();
    assert.equal(list.kind, 'calendar#calendarList');
    assert.equal(list.items!.find((e) => e.id === account.calendarId)?.primary, true);
    await api.calendarList.watch({
      requestBody: { id: 'chan-list', type: 'web_hook', address: `${receiver.url}/list` },
    });
    const { data: cal } = await api.calendars.insert({ requestBody: { summary: 'Doomed' } });
    await api.events.watch({
      calendarId: cal.id!,
      requestBody: { id: 'chan-doomed', type: 'web_hook', address: `${receiver.url}/doomed` },
    });
    await api.acl.watch({
      calendarId: cal.id!,
      requestBody: { id: 'chan-acl', type: 'web_hook', address: `${receiver.url}/acl` },
    });
    const { data: rule } = await api.acl.insert({
      calendarId: cal.id!,
      requestBody: { role: 'reader', scope: { type: 'user', value: 'friend@example.com' } },
    });
    assert.equal(rule.kind, 'calendar#aclRule');
    assert.equal(rule.id, 'user:friend@example.com');
    const { data: acl } = await api.acl.list({ calendarId: cal.id! });
    assert.deepEqual(
      acl.items!.map((r) => r.role),
      ['reader', 'owner'],
    );
    await receiver.waitFor((rs) =>
      rs.some((r) => r.path === '/acl' && r.headers['x-goog-resource-state'] === 'exists'),
    );

    await api.calendars.delete({ calendarId: cal.id! });
    await receiver.waitFor((rs) =>
      rs.some((r) => r.path === '/doomed' && r.headers['x-goog-resource-state'] === 'not_exists'),
    );
    await receiver.waitFor((rs) =>
      rs.some((r) => r.path === '/list' && r.headers['x-goog-resource-state'] === 'exists'),
    );
    const delta = await api.calendarList.list({ syncToken: list.nextSyncToken! });
    const deleted = delta.data.items!.find((e) => e.id === cal.id);
    assert.equal(deleted?.deleted, true);

    const { data: settings } = await api.settings.list();
    assert.equal(settings.kind, 'calendar#settings');
    const { data: tz } = await api.settings.get({ setting: 'timezone' });
    assert.deepEqual(tz, {
      kind: 'calendar#setting',
      etag: tz.etag,
      id: 'timezone',
      value: 'Etc/UTC',
    });
    for (const id of ['chan-list', 'chan-doomed', 'chan-acl']) {
      await api.channels.stop({ requestBody: { id } });
    }
  });
});
