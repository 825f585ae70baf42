import { deleteAccount } from '../src/core/account-erasure.ts';
import { afterEach, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Harness } from './support/harness.ts';
import { createTestAccount, startHarness } from './support/harness.ts';
import { Receiver } from './support/receiver.ts';
import { ManualClock } from '../src/domain/clock.ts';
import { engines } from './support/postgres.ts';
import { FakeCaldav } from './support/fake-caldav.ts';
import { eventIcs } from './support/ical-stand-in.ts';
import { callApi, settleSources } from './support/api.ts';
import { graphClientFor, graphReply, notificationItems } from './support/graph.ts';

const HOUR = 3_600_000;

let h: Harness | undefined;
let receiver: Receiver | undefined;
afterEach(async () => {
  await h?.close();
  await receiver?.close();
});

for (const engine of engines) {
  test(`a notification failing for 4 hours is dropped and a missed lifecycle event sent, on ${engine}`, async () => {
    const clock = new ManualClock(Date.UTC(2026, 11, 1));
    h = await startHarness({ listen: true, clock, random: () => 0.5, engine });
    receiver = await Receiver.start();
    const hook = receiver;
    // The notification URL passes the handshake, then fails every notification.
    hook.reply = (r) =>
      r.path.startsWith('/hook') && !r.path.includes('validationToken')
        ? { status: 500 }
        : graphReply(r);
    const account = await createTestAccount(h.service);
    const graph = graphClientFor(h.url, account.accessToken);
    const sub = await graph.subscriptions.post({
      changeType: 'created',
      notificationUrl: `${hook.url}/hook`,
      lifecycleNotificationUrl: `${hook.url}/life`,
      resource: 'me/events',
      expirationDateTime: new Date(clock.now() + 72 * HOUR),
      clientState: 'state-1',
    });
    await graph.me.events.post({
      subject: 'Lost',
      start: { dateTime: '2026-12-10T09:00:00', timeZone: 'UTC' },
      end: { dateTime: '2026-12-10T10:00:00', timeZone: 'UTC' },
    });
    const start = clock.now();
    await h.service.dispatcher.runUntilIdle();
    while (clock.now() - start < 5 * HOUR) {
      clock.advance(60_000);
      await h.service.dispatcher.runUntilIdle();
    }
    const failed = hook.requests.filter((r) => r.path === '/hook').length;
    assert.ok(failed >= 5, `retried ${failed} times`);
    const lifecycle = notificationItems(hook.requests, '/life');
    assert.deepEqual(
      lifecycle.map((i) => [i.lifecycleEvent, i.subscriptionId, i.clientState]),
      [['missed', sub?.id, 'state-1']],
    );
    assert.equal(lifecycle[0]?.changeType, undefined);
    // Graph keeps the subscription: it is not closed, and hears later changes.
    const still = await graph.subscriptions.bySubscriptionId(sub!.id!).get();
    assert.equal(still?.id, sub?.id);
    hook.reply = graphReply;
    await graph.me.events.post({
      subject: 'Heard',
      start: { dateTime: '2026-12-11T09:00:00', timeZone: 'UTC' },
      end: { dateTime: '2026-12-11T10:00:00', timeZone: 'UTC' },
    });
    clock.advance(60_000);
    await h.service.dispatcher.runUntilIdle();
    const last = hook.requests.filter((r) => r.path === '/hook').at(-1);
    assert.ok(last?.body.includes('"created"'));
  });
}

for (const engine of engines) {
  test(`reauthorizationRequired 15 minutes before expiry, again after a renewal, on ${engine}`, async () => {
    const clock = new ManualClock(Date.UTC(2026, 11, 1));
    h = await startHarness({ listen: true, clock, engine });
    receiver = await Receiver.start();
    const hook = receiver;
    hook.reply = graphReply;
    const account = await createTestAccount(h.service);
    const graph = graphClientFor(h.url, account.accessToken);
    const sub = await graph.subscriptions.post({
      changeType: 'updated',
      notificationUrl: `${hook.url}/hook`,
      lifecycleNotificationUrl: `${hook.url}/life`,
      resource: 'me/events',
      expirationDateTime: new Date(clock.now() + HOUR),
    });
    const told = () => notificationItems(hook.requests, '/life').map((i) => i.lifecycleEvent);
    const sweep = async () => {
      await h!.service.dispatcher.sweepExpiries();
      await h!.service.dispatcher.runUntilIdle();
    };
    clock.advance(44 * 60_000);
    await sweep();
    assert.deepEqual(told(), []);
    clock.advance(2 * 60_000);
    await sweep();
    await sweep();
    assert.deepEqual(told(), ['reauthorizationRequired']);
    await graph.subscriptions.bySubscriptionId(sub!.id!).patch({
      expirationDateTime: new Date(clock.now() + 2 * HOUR),
    });
    clock.advance(HOUR + 50 * 60_000);
    await sweep();
    assert.deepEqual(told(), ['reauthorizationRequired', 'reauthorizationRequired']);
  });
}

test('deleting the subscribed calendar sends subscriptionRemoved and ends the subscription', async () => {
  h = await startHarness({ listen: true, start: true });
  receiver = await Receiver.start();
  const hook = receiver;
  hook.reply = graphReply;
  const account = await createTestAccount(h.service);
  const graph = graphClientFor(h.url, account.accessToken);
  const google = (method: string, path: string, body?: unknown) =>
    fetch(`${h!.url}/calendar/v3${path}`, {
      method,
      headers: {
        authorization: `Bearer ${account.accessToken}`,
        'content-type': 'application/json',
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  const made = (await (await google('POST', '/calendars', { summary: 'Team' })).json()) as {
    id: string;
  };
  const sub = await graph.subscriptions.post({
    changeType: 'created,updated,deleted',
    notificationUrl: `${hook.url}/hook`,
    lifecycleNotificationUrl: `${hook.url}/life`,
    resource: `me/calendars/${made.id}/events`,
    expirationDateTime: new Date(Date.now() + HOUR),
    clientState: 'team',
  });
  assert.equal((await google('DELETE', `/calendars/${made.id}`)).status, 204);
  await hook.waitFor((rs) => notificationItems(rs, '/life').length > 0);
  assert.deepEqual(
    notificationItems(hook.requests, '/life').map((i) => [i.lifecycleEvent, i.clientState]),
    [['subscriptionRemoved', 'team']],
  );
  await h.service.dispatcher.runUntilIdle();
  const gone = await graph.subscriptions
    .bySubscriptionId(sub!.id!)
    .get()
    .then(
      () => 200,
      (err: { responseStatusCode: number }) => err.responseStatusCode,
    );
  assert.equal(gone, 404);
});

test('a source whose server refuses its credentials removes the subscriptions to its calendar', async () => {
  const clock = new ManualClock(Date.UTC(2026, 11, 6, 9));
  h = await startHarness({ listen: true, clock });
  receiver = await Receiver.start();
  const hook = receiver;
  hook.reply = graphReply;
  const fake = await FakeCaldav.start('sync');
  try {
    fake.put('one.ics', eventIcs('one@test', 'One'));
    const account = await createTestAccount(h.service);
    const call = (method: string, path: string, body?: unknown) =>
      callApi<{ source?: { source_id: string; calendar_ids: string[] } }>(
        h!.service,
        account.accessToken,
        method,
        path,
        body,
      );
    const made = await call('POST', '/v1/sources', {
      provider: 'caldav',
      url: fake.homeUrl,
      username: 'ada',
      password: 'secret',
    });
    assert.equal(made.status, 201);
    await settleSources(h.service, clock);
    const calendarId = made.json.source!.calendar_ids[0]!;
    const graph = graphClientFor(h.url, account.accessToken);
    const scoped = await graph.subscriptions.post({
      changeType: 'updated',
      notificationUrl: `${hook.url}/hook`,
      lifecycleNotificationUrl: `${hook.url}/life`,
      resource: `me/calendars/${calendarId}/events`,
      expirationDateTime: new Date(clock.now() + HOUR),
    });
    const wide = await graph.subscriptions.post({
      changeType: 'updated',
      notificationUrl: `${hook.url}/hook`,
      lifecycleNotificationUrl: `${hook.url}/life`,
      resource: 'me/events',
      expirationDateTime: new Date(clock.now() + HOUR),
    });
    fake.onRequest = () => ({ status: 401, headers: { 'www-authenticate': 'Basic' } });
    assert.equal(
      (await call('POST', `/v1/sources/${made.json.source!.source_id}/poll`)).status,
      202,
    );
    await settleSources(h.service, clock);
    assert.deepEqual(
      notificationItems(hook.requests, '/life').map((i) => [i.lifecycleEvent, i.subscriptionId]),
      [['subscriptionRemoved', scoped?.id]],
    );
    const ids = (await graph.subscriptions.get())?.value?.map((s) => s.id);
    assert.deepEqual(ids, [wide?.id]);
  } finally {
    await fake.close();
  }
});

test('erasing the account sends subscriptionRemoved to its subscriptions before their rows go', async () => {
  h = await startHarness({ listen: true });
  receiver = await Receiver.start();
  const hook = receiver;
  hook.reply = graphReply;
  const account = await createTestAccount(h.service);
  const graph = graphClientFor(h.url, account.accessToken);
  const made = graph.subscriptions.post({
    changeType: 'created,updated,deleted',
    notificationUrl: `${hook.url}/hook`,
    lifecycleNotificationUrl: `${hook.url}/life`,
    resource: 'me/events',
    expirationDateTime: new Date(Date.now() + HOUR),
    clientState: 'erased',
  });
  await made;
  const service = h.service;
  await deleteAccount(service.core, account.accountId, {
    waitMs: 10_000,
    progress: () => service.dispatcher.runUntilIdle(),
  });
  assert.deepEqual(
    notificationItems(hook.requests, '/life').map((i) => [i.lifecycleEvent, i.clientState]),
    [['subscriptionRemoved', 'erased']],
  );
  const left = await service.store.db.selectFrom('channels').select('id').execute();
  assert.equal(left.length, 0);
});
