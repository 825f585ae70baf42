import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Harness, TestAccount } from './support/harness.ts';
import { createTestAccount, startHarness, watchAccount } from './support/harness.ts';
import { Receiver } from './support/receiver.ts';
import { GoogleOAuthStandIn } from './support/google-oauth.ts';
import { CountingProxy } from './support/counting-proxy.ts';
import { settleSources } from './support/api.ts';
import { googleSourceProbes } from './support/google-source-pair.ts';
import { ManualClock } from '../src/domain/clock.ts';
import { engines } from './support/postgres.ts';
import { leaseDueSources, recordPoll } from '../src/core/source-sync.ts';
import type { Watch } from '../src/sources/google/watches.ts';
import { RENEW_BEFORE_MS } from '../src/sources/google/watches.ts';

interface Json {
  source?: { source_id: string; state: string; calendar_ids: string[]; last_error: string | null };
  items?: { id: string; summary?: string; resourceId?: string; address?: string }[];
  id?: string;
}

for (const engine of engines)
  describe(`Google watch channels: an upstream change pushed, not polled, on ${engine}`, () => {
    const clock = new ManualClock(Date.UTC(2026, 11, 6, 9, 0, 0));
    const oauth = new GoogleOAuthStandIn();
    let a: Harness;
    let b: Harness;
    let proxy: CountingProxy;
    let upstream: TestAccount;
    let account: TestAccount;
    let receiver: Receiver;
    /** A Google watcher of the mirrored calendar, on the downstream server. */
    let googleReceiver: Receiver;
    let sourceId = '';
    let eventId = '';

    const { call, upstreamCall, eventsPath, sourceRow, watches, upstreamDelivers } =
      googleSourceProbes<Json>(() => ({
        clock,
        upstream: a.service,
        downstream: b.service,
        upstreamAccount: upstream,
        account,
        sourceId,
      }));
    const settle = () => settleSources(b.service, clock);
    const notified = () => receiver.notificationTypes();
    /** The upstream delivers its pushes (over HTTP, to the downstream's push address). */
    const untilDue = async () => {
      await upstreamDelivers();
      const row = await sourceRow();
      assert.ok(row.next_poll_at !== null && Number(row.next_poll_at) <= clock.now(), 'pushed');
    };
    const push = (watch: Watch, token: string, state = 'exists') =>
      b.service.app.request(`/v1/sources/google/push/${sourceId}`, {
        method: 'POST',
        headers: {
          'x-goog-channel-id': watch.id,
          'x-goog-channel-token': token,
          'x-goog-resource-state': state,
          'x-goog-resource-id': watch.resourceId,
        },
      });

    before(async () => {
      await oauth.start();
      // One clock for both servers: the upstream's channel ends are the downstream's.
      a = await startHarness({ listen: true, clock });
      upstream = await createTestAccount(a.service, 'upstream@example.com');
      oauth.grants.set('rt-1', upstream.accessToken);
      proxy = new CountingProxy(a.url);
      await proxy.start();
      b = await startHarness({
        clock,
        random: () => 0.5,
        listen: true,
        engine,
        env: {
          CALPUSH_GOOGLE_API_URL: `${proxy.url}/calendar/v3`,
          CALPUSH_GOOGLE_OAUTH_URL: oauth.url,
          CALPUSH_GOOGLE_CLIENT_ID: oauth.clientId,
          CALPUSH_GOOGLE_CLIENT_SECRET: oauth.clientSecret,
        },
      });
      account = await createTestAccount(b.service, 'downstream@example.com');
      receiver = await Receiver.start();
      googleReceiver = await Receiver.start();
      await watchAccount(b.service, account, receiver.url);
      await b.service.dispatcher.runUntilIdle();
      const created = await upstreamCall('POST', eventsPath(), {
        summary: 'Review',
        start: { dateTime: '2026-12-08T15:00:00Z' },
        end: { dateTime: '2026-12-08T16:00:00Z' },
      });
      eventId = created.json.id!;
    });
    after(async () => {
      await b?.close();
      await a?.close();
      await proxy?.close();
      await receiver?.close();
      await googleReceiver?.close();
      await oauth.close();
    });

    test('the first sync watches the calendar list and every calendar upstream', async () => {
      const created = await call('POST', '/v1/sources', {
        provider: 'google',
        refresh_token: 'rt-1',
        poll_interval_seconds: 3600,
      });
      assert.equal(created.status, 201, JSON.stringify(created.json));
      sourceId = created.json.source!.source_id;
      await settle();
      const held = await watches();
      assert.deepEqual(held.map((w) => w.target).sort(), ['', upstream.calendarId].sort());
      const channels = await upstreamCall('GET', '/channels');
      assert.deepEqual(channels.json.items?.map((c) => c.id).sort(), held.map((w) => w.id).sort());
      assert.ok(
        channels.json.items?.every(
          (c) => c.address === `${b.url}/v1/sources/google/push/${sourceId}`,
        ),
      );
      // Stored sealed: the token is in no column in clear.
      assert.ok(held.every((w) => !w.sealedToken.includes(w.id)));
      const row = await sourceRow();
      assert.ok(Number(row.next_poll_at) > clock.now() + 50 * 60_000, 'next poll an hour out');
      // The channels' first message (`sync`) is taken and changes nothing.
      await upstreamDelivers();
      assert.ok(Number((await sourceRow()).next_poll_at) > clock.now() + 50 * 60_000);
    });

    test('a change upstream is pushed, and the push alone brings the poll', async () => {
      const before = receiver.requests.length;
      const polls = proxy.count('/calendarList');
      await upstreamCall('PATCH', `${eventsPath()}/${eventId}`, { summary: 'Review (moved)' });
      await untilDue();
      assert.ok((await sourceRow()).pushed_at !== null);
      await settle();
      assert.equal(proxy.count('/calendarList'), polls + 1);
      assert.deepEqual(notified().slice(before), ['change']);
    });

    test('pushes are checked by channel and token, and a burst of them is one poll', async () => {
      const [watch] = (await watches()).filter((w) => w.target !== '');
      assert.ok(watch);
      const token = b.service.core.secrets.open(watch.sealedToken);
      const unknown = await push({ ...watch, id: 'calpush-unknown' }, token);
      assert.equal(unknown.status, 404);
      const wrong = await push(watch, 'wrong-token');
      assert.equal(wrong.status, 401);
      assert.equal((await push(watch, token, 'sync')).status, 200);
      // `sync` is answered alike whatever it names, so it tells no one which sources exist.
      assert.equal((await push(watch, 'wrong-token', 'sync')).status, 200);
      const nowhere = await b.service.app.request('/v1/sources/google/push/src_nosuchsource', {
        method: 'POST',
        headers: {
          'x-goog-channel-id': watch.id,
          'x-goog-channel-token': token,
          'x-goog-resource-state': 'sync',
        },
      });
      assert.equal(nowhere.status, 200);
      const row = await sourceRow();
      assert.ok(Number(row.next_poll_at) > clock.now(), 'none of these made the source due');

      const polls = proxy.count('/calendarList');
      for (let i = 0; i < 10; i++) assert.equal((await push(watch, token)).status, 200);
      await settle();
      assert.equal(proxy.count('/calendarList'), polls + 1);
    });

    test('channels are renewed before they end: the new one opened, then the old one stopped', async () => {
      const old = await watches();
      const renewAt = Math.min(...old.map((w) => w.expiresAt)) - RENEW_BEFORE_MS;
      assert.ok(Number((await sourceRow()).next_poll_at) <= renewAt, 'a poll comes by then');
      clock.set(renewAt + 1000);
      const [opened, stopped] = [proxy.count('/watch'), proxy.count('/channels/stop')];
      await settle();
      assert.equal(proxy.count('/watch'), opened + old.length);
      assert.equal(proxy.count('/channels/stop'), stopped + old.length);
      const renewed = await watches();
      assert.equal(renewed.length, old.length);
      for (const w of renewed) assert.ok(!old.some((o) => o.id === w.id));
      const channels = await upstreamCall('GET', '/channels');
      assert.deepEqual(
        channels.json.items?.map((c) => c.id).sort(),
        renewed.map((w) => w.id).sort(),
      );
      // The new channel pushes as the old one did.
      const before = receiver.requests.length;
      await upstreamCall('PATCH', `${eventsPath()}/${eventId}`, { summary: 'Review (again)' });
      await untilDue();
      await settle();
      assert.deepEqual(notified().slice(before), ['change']);
    });

    test('a push while another node polls leaves the source due, and the next poll reads it', async () => {
      assert.equal((await call('POST', `/v1/sources/${sourceId}/poll`)).status, 202);
      // Another node leases the source and reads it upstream...
      const [leased] = await leaseDueSources(b.service.core, {
        now: clock.now(),
        limit: 1,
        leaseMs: 60_000,
        lockRows: engine === 'postgres',
      });
      assert.ok(leased);
      const result = await b.service.core.sources.providers.get('google')!.poll(leased);
      // ...then a change is pushed here before that node stores what it read.
      const before = receiver.requests.length;
      await upstreamCall('PATCH', `${eventsPath()}/${eventId}`, { summary: 'Review (pushed)' });
      await untilDue();
      const now = clock.now();
      await recordPoll(b.service.core, leased, result, now, now + 60 * 60_000);
      assert.ok(Number((await sourceRow()).next_poll_at) <= now, 'still due after that poll');
      await settle();
      assert.deepEqual(notified().slice(before), ['change']);
      assert.ok(Number((await sourceRow()).next_poll_at) > clock.now() + 50 * 60_000);
    });

    test('while watches fail the source is polled every minute, and they are made once they work', async () => {
      proxy.refusing = '/watch';
      const held = await watches();
      clock.set(Math.max(...held.map((w) => w.expiresAt)) + 1000);
      await settle();
      assert.deepEqual(await watches(), []);
      const row = await sourceRow();
      assert.equal(row.state, 'connected');
      assert.ok(Number(row.next_poll_at) <= clock.now() + 60_000, 'polled within a minute');
      proxy.refusing = null;
      clock.advance(60_000);
      await settle();
      assert.equal((await watches()).length, held.length);
      assert.ok(Number((await sourceRow()).next_poll_at) > clock.now() + 50 * 60_000);
    });
  });
