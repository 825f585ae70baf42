import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { TestAccount } from './support/harness.ts';
import { createTestAccount, watchAccount } from './support/harness.ts';
import { Receiver } from './support/receiver.ts';
import { GoogleOAuthStandIn } from './support/google-oauth.ts';
import { RestartableServer } from './support/restartable-server.ts';
import { settleSources } from './support/api.ts';
import { googleSourceProbes } from './support/google-source-pair.ts';
import { ManualClock } from '../src/domain/clock.ts';

interface Json {
  source?: { source_id: string; state: string };
  items?: { id: string }[];
  id?: string;
}

describe('Google sources across restarts of either server', () => {
  const clock = new ManualClock(Date.UTC(2026, 11, 6, 9, 0, 0));
  const oauth = new GoogleOAuthStandIn();
  const a = new RestartableServer(clock);
  let b: RestartableServer;
  let upstream: TestAccount;
  let account: TestAccount;
  let receiver: Receiver;
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
  const notified = () => receiver.notificationTypes();
  /** A change upstream, pushed, and the poll the push alone brings. */
  const pushedChange = async (summary: string) => {
    const before = receiver.requests.length;
    await upstreamCall('PATCH', `${eventsPath()}/${eventId}`, { summary });
    await upstreamDelivers();
    assert.ok(Number((await sourceRow()).next_poll_at) <= clock.now(), 'the push made it due');
    await settleSources(b.service, clock);
    assert.deepEqual(notified().slice(before), ['change']);
  };

  before(async () => {
    await oauth.start();
    await a.start();
    upstream = await createTestAccount(a.service, 'upstream@example.com');
    oauth.grants.set('rt-1', upstream.accessToken);
    b = new RestartableServer(clock, {
      CALPUSH_GOOGLE_API_URL: `${a.url}/calendar/v3`,
      CALPUSH_GOOGLE_OAUTH_URL: oauth.url,
      CALPUSH_GOOGLE_CLIENT_ID: oauth.clientId,
      CALPUSH_GOOGLE_CLIENT_SECRET: oauth.clientSecret,
    });
    await b.start();
    account = await createTestAccount(b.service, 'downstream@example.com');
    receiver = await Receiver.start();
    await watchAccount(b.service, account, receiver.url);
    await b.service.dispatcher.runUntilIdle();
    const created = await upstreamCall('POST', eventsPath(), {
      summary: 'Review',
      start: { dateTime: '2026-12-08T15:00:00Z' },
      end: { dateTime: '2026-12-08T16:00:00Z' },
    });
    eventId = created.json.id!;
    const source = await call('POST', '/v1/sources', {
      provider: 'google',
      refresh_token: 'rt-1',
      poll_interval_seconds: 3600,
    });
    sourceId = source.json.source!.source_id;
    await settleSources(b.service, clock);
    assert.equal((await watches()).length, 2);
    await upstreamDelivers();
  });
  after(async () => {
    await b?.close();
    await a.close();
    await receiver?.close();
    await oauth.close();
  });

  test('the upstream restarted keeps its channels and sync tokens', async () => {
    await a.restart();
    await pushedChange('Review (after the upstream restarted)');
  });

  test('the downstream restarted with its watches live takes their pushes at once', async () => {
    const held = (await watches()).map((w) => w.id);
    await b.restart();
    await pushedChange('Review (after the downstream restarted)');
    assert.deepEqual(
      (await watches()).map((w) => w.id),
      held,
    );
    const channels = await upstreamCall('GET', '/channels');
    assert.deepEqual(channels.json.items?.map((c) => c.id).sort(), [...held].sort());
  });

  test('watches that ended while the downstream was down are made again by its first poll', async () => {
    const held = await watches();
    await b.stop();
    clock.set(Math.max(...held.map((w) => w.expiresAt)) + 60_000);
    await b.start();
    await settleSources(b.service, clock);
    const renewed = await watches();
    assert.equal(renewed.length, held.length);
    for (const w of renewed) assert.ok(!held.some((h) => h.id === w.id));
    assert.ok(renewed.every((w) => w.expiresAt > clock.now()));
    await pushedChange('Review (after the channels were made again)');
  });

  test('a channel whose sealed token no key opens (a key dropped after rotation) is made again', async () => {
    const held = await watches();
    const unreadable = held.map((w) => ({ ...w, sealedToken: 'v1.gone.AAAA.AAAA' }));
    await b.service.core.write((trx) =>
      trx
        .updateTable('sources')
        .set({ cursor_json: JSON.stringify({ v: 1, watches: unreadable }) })
        .where('id', '=', sourceId)
        .execute(),
    );
    assert.equal((await call('POST', `/v1/sources/${sourceId}/poll`)).status, 202);
    await settleSources(b.service, clock);
    const renewed = await watches();
    assert.equal(renewed.length, held.length);
    for (const w of renewed) assert.ok(!held.some((h) => h.id === w.id));
    await pushedChange('Review (under the current key)');
  });

  test('removing the source stops its channels upstream', async () => {
    assert.equal((await upstreamCall('GET', '/channels')).json.items?.length, 2);
    assert.equal((await call('DELETE', `/v1/sources/${sourceId}`)).status, 202);
    assert.deepEqual((await upstreamCall('GET', '/channels')).json.items, []);
  });
});
