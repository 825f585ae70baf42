import { afterEach, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Harness } from './support/harness.ts';
import { createTestAccount, startHarness } from './support/harness.ts';
import { Receiver } from './support/receiver.ts';
import { engines } from './support/postgres.ts';
import { callApi } from './support/api.ts';
import {
  graphClientFor,
  graphReply,
  notificationItems,
  validationTokenOf,
} from './support/graph.ts';

let h: Harness | undefined;
let receiver: Receiver | undefined;
afterEach(async () => {
  await h?.close();
  await receiver?.close();
});

const event = (day: number) => ({
  subject: `E${day}`,
  start: { dateTime: `2026-12-${String(day).padStart(2, '0')}T09:00:00`, timeZone: 'UTC' },
  end: { dateTime: `2026-12-${String(day).padStart(2, '0')}T10:00:00`, timeZone: 'UTC' },
});

for (const engine of engines) {
  test(`changes waiting together go out in one POST; a failed batch is retried whole, on ${engine}`, async () => {
    h = await startHarness({ listen: true, engine });
    receiver = await Receiver.start();
    const hook = receiver;
    hook.reply = graphReply;
    const account = await createTestAccount(h.service);
    const graph = graphClientFor(h.url, account.accessToken);
    await graph.subscriptions.post({
      changeType: 'created,updated',
      notificationUrl: `${hook.url}/hook`,
      resource: 'me/events',
      expirationDateTime: new Date(Date.now() + 3_600_000),
    });
    const ids: string[] = [];
    for (const day of [1, 2, 3, 4, 5]) ids.push((await graph.me.events.post(event(day)))!.id!);
    // A change of another type to one of them is an item of its own, in the same POST.
    await graph.me.events.byEventId(ids[0]!).patch({ subject: 'Again' });
    await h.service.dispatcher.runUntilIdle();
    const posts = hook.requests.filter((r) => validationTokenOf(r) === undefined);
    assert.equal(posts.length, 1);
    const items = notificationItems(hook.requests, '/hook');
    assert.deepEqual(
      items.map((i) => (i.resourceData as { id: string }).id),
      [...ids, ids[0]],
    );
    assert.deepEqual(
      items.map((i) => i.changeType),
      ['created', 'created', 'created', 'created', 'created', 'updated'],
    );

    // A batch that fails is retried as a whole, with what was queued meanwhile behind it.
    hook.reply = (r) => (validationTokenOf(r) === undefined ? { status: 503 } : graphReply(r));
    await graph.me.events.post(event(6));
    await graph.me.events.post(event(7));
    await h.service.dispatcher.runUntilIdle();
    hook.reply = graphReply;
    await graph.me.events.post(event(8));
    const rows = await h.service.store.db
      .selectFrom('notifications')
      .select(['kind', 'state'])
      .where('state', 'in', ['pending', 'sending'])
      .orderBy('id')
      .execute();
    assert.deepEqual(
      rows.map((r) => r.state),
      ['pending', 'pending', 'pending'],
    );
  });
}

for (const engine of engines) {
  test(`subscriptions sharing a notification URL share its POSTs, on ${engine}`, async () => {
    h = await startHarness({ listen: true, engine });
    receiver = await Receiver.start();
    const hook = receiver;
    hook.reply = graphReply;
    const account = await createTestAccount(h.service);
    const graph = graphClientFor(h.url, account.accessToken);
    const subscribe = (clientState: string, path: string) =>
      graph.subscriptions.post({
        changeType: 'created',
        notificationUrl: `${hook.url}${path}`,
        resource: 'me/events',
        expirationDateTime: new Date(Date.now() + 3_600_000),
        clientState,
      });
    const a = await subscribe('a', '/shared');
    const b = await subscribe('b', '/shared');
    await subscribe('c', '/own');
    await graph.me.events.post(event(9));
    await h.service.dispatcher.runUntilIdle();
    const shared = hook.requests.filter(
      (r) => r.path === '/shared' && validationTokenOf(r) === undefined,
    );
    assert.equal(shared.length, 1);
    const items = notificationItems(hook.requests, '/shared');
    assert.deepEqual(
      items.map((i) => [i.subscriptionId, i.clientState]).sort(),
      [
        [a?.id, 'a'],
        [b?.id, 'b'],
      ].sort(),
    );
    assert.deepEqual(
      notificationItems(hook.requests, '/own').map((i) => i.clientState),
      ['c'],
    );
  });
}

test('changing an occurrence is updated, deleting one is deleted, under the occurrence id', async () => {
  h = await startHarness({ listen: true });
  receiver = await Receiver.start();
  const hook = receiver;
  hook.reply = graphReply;
  const account = await createTestAccount(h.service);
  const graph = graphClientFor(h.url, account.accessToken);
  await graph.subscriptions.post({
    changeType: 'created,updated,deleted',
    notificationUrl: `${hook.url}/occ`,
    resource: 'me/events',
    expirationDateTime: new Date(Date.now() + 3_600_000),
  });
  const series = await graph.me.events.post({
    ...event(1),
    recurrence: {
      pattern: { type: 'daily', interval: 1 },
      range: { type: 'numbered', numberOfOccurrences: 3 },
    },
  });
  const page = await graph.me.calendarView.delta.get({
    queryParameters: { startDateTime: '2026-12-01T00:00:00Z', endDateTime: '2026-12-05T00:00:00Z' },
  });
  const [first, second] = (page?.value ?? []).filter((e) => e.seriesMasterId === series?.id);
  await graph.me.events.byEventId(first!.id!).patch({ subject: 'Moved' });
  await graph.me.events.byEventId(second!.id!).delete();
  await h.service.dispatcher.runUntilIdle();
  const items = notificationItems(hook.requests, '/occ');
  assert.deepEqual(
    items.map((i) => [i.changeType, (i.resourceData as { id: string }).id]),
    [
      ['created', series?.id],
      ['updated', first?.id],
      ['deleted', second?.id],
    ],
  );
});

for (const engine of engines) {
  test(`a replay goes out alone, never carrying fresh changes under its id, on ${engine}`, async () => {
    h = await startHarness({ listen: true, engine, env: { CALPUSH_MIN_INTERVAL_MS: '0' } });
    receiver = await Receiver.start();
    const hook = receiver;
    hook.reply = graphReply;
    const account = await createTestAccount(h.service);
    const graph = graphClientFor(h.url, account.accessToken);
    const subscribe = (clientState: string) =>
      graph.subscriptions.post({
        changeType: 'created',
        notificationUrl: `${hook.url}/shared`,
        resource: 'me/events',
        expirationDateTime: new Date(Date.now() + 3_600_000),
        clientState,
      });
    const a = await subscribe('a');
    const b = await subscribe('b');
    await graph.me.events.post(event(1));
    await h.service.dispatcher.runUntilIdle();
    const posts = () => hook.requests.filter((r) => validationTokenOf(r) === undefined);
    const [first] = posts();
    assert.equal(posts().length, 1);
    const itemsOf = (r: (typeof hook.requests)[number]) =>
      (JSON.parse(r.body) as { value: { subscriptionId: string; resourceData: { id: string } }[] })
        .value;
    const original = String(first?.headers['calpush-notification-id']);
    // The lead of the shared POST is one subscription's notification: replay that one.
    const replayed = await callApi(
      h.service,
      account.accessToken,
      'POST',
      `/v1/notifications/${original}/replay`,
    );
    assert.equal(replayed.status, 202);
    const replayedSub = itemsOf(first!)[0]?.subscriptionId;
    // Changes of other events queue behind the replay before it is sent.
    const fresh = [
      (await graph.me.events.post(event(2)))!.id!,
      (await graph.me.events.post(event(3)))!.id!,
    ];
    await h.service.dispatcher.runUntilIdle();
    const later = posts().slice(1);
    const replays = later.filter((r) => r.headers['calpush-replay'] === '1');
    assert.equal(replays.length, 1);
    assert.equal(replays[0]?.headers['calpush-notification-id'], original);
    assert.deepEqual(
      itemsOf(replays[0]).map((i) => i.subscriptionId),
      [replayedSub],
      'the replay carries only the notification replayed',
    );
    const ordinary = later.filter((r) => r.headers['calpush-replay'] === undefined);
    assert.ok(ordinary.every((r) => r.headers['calpush-notification-id'] !== original));
    assert.deepEqual(
      ordinary
        .flatMap(itemsOf)
        .map((i) => [i.subscriptionId, i.resourceData.id])
        .sort(),
      [a?.id, b?.id].flatMap((sub) => fresh.map((id) => [sub, id])).sort(),
    );
  });
}
