import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { GraphServiceClient } from '@microsoft/msgraph-sdk';
import type { Harness, TestAccount } from './support/harness.ts';
import { createTestAccount, startHarness } from './support/harness.ts';
import { Receiver } from './support/receiver.ts';
import { graphClientFor, graphReply, notificationItems } from './support/graph.ts';

const hours = (n: number) => new Date(Date.now() + n * 3_600_000);

describe('Graph, Cronofy and Google faces share one core', () => {
  let h: Harness;
  let receiver: Receiver;
  let account: TestAccount;
  let graph: GraphServiceClient;
  const call = async (method: string, path: string, body?: unknown) => {
    const response = await fetch(`${h.url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${account.accessToken}`,
        'content-type': 'application/json',
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    return { status: response.status, json: (text ? JSON.parse(text) : undefined) as unknown };
  };
  const subscribe = (path: string, changeType: string) =>
    graph.subscriptions.post({
      changeType,
      notificationUrl: `${receiver.url}${path}`,
      resource: 'me/events',
      expirationDateTime: hours(24),
      clientState: path,
    });

  before(async () => {
    h = await startHarness({ listen: true, start: true });
    receiver = await Receiver.start();
    receiver.reply = graphReply;
    account = await createTestAccount(h.service);
    graph = graphClientFor(h.url, account.accessToken);
  });
  after(async () => {
    await h.close();
    await receiver.close();
  });

  test('a Graph subscriber hears events made, changed and deleted through the Google face', async () => {
    await subscribe('/from-google', 'created,updated,deleted');
    const insert = await call('POST', '/calendar/v3/calendars/primary/events', {
      summary: 'From Google',
      start: { dateTime: '2026-12-01T09:00:00Z' },
      end: { dateTime: '2026-12-01T10:00:00Z' },
    });
    assert.equal(insert.status, 200);
    const id = (insert.json as { id: string }).id;
    await receiver.waitFor((rs) => notificationItems(rs, '/from-google').length >= 1);
    await call('PATCH', `/calendar/v3/calendars/primary/events/${id}`, { summary: 'Renamed' });
    await receiver.waitFor((rs) => notificationItems(rs, '/from-google').length >= 2);
    await call('DELETE', `/calendar/v3/calendars/primary/events/${id}`);
    await receiver.waitFor((rs) => notificationItems(rs, '/from-google').length >= 3);
    const items = notificationItems(receiver.requests, '/from-google');
    assert.deepEqual(
      items.map((i) => i.changeType),
      ['created', 'updated', 'deleted'],
    );
    assert.ok(items.every((i) => (i.resourceData as { id: string }).id === id));
    const read = await graph.me.events
      .byEventId(id)
      .get()
      .catch(() => undefined);
    assert.equal(read, undefined);
  });

  test('Cronofy and Google channels hear an event made through the Graph face', async () => {
    const cronofy = await call('POST', '/v1/channels', { callback_url: `${receiver.url}/cronofy` });
    assert.equal(cronofy.status, 200);
    const google = await call('POST', '/calendar/v3/calendars/primary/events/watch', {
      id: 'g-cross',
      type: 'web_hook',
      address: `${receiver.url}/google`,
    });
    assert.equal(google.status, 200);
    await receiver.waitFor(
      (rs) => rs.some((r) => r.path === '/cronofy') && rs.some((r) => r.path === '/google'),
    );
    const created = await graph.me.events.post({
      subject: 'From Graph',
      start: { dateTime: '2026-12-02T09:00:00', timeZone: 'Europe/Paris' },
      end: { dateTime: '2026-12-02T10:00:00', timeZone: 'Europe/Paris' },
    });
    await receiver.waitFor(
      (rs) =>
        rs.some((r) => r.path === '/cronofy' && r.body.includes('"change"')) &&
        rs.some((r) => r.path === '/google' && r.headers['x-goog-resource-state'] === 'exists'),
    );
    const list = await call('GET', '/calendar/v3/calendars/primary/events');
    const items = (list.json as { items: { id: string; summary: string }[] }).items;
    assert.ok(items.some((e) => e.id === created?.id && e.summary === 'From Graph'));
    const events = await call('GET', '/v1/events?tzid=Etc/UTC&from=2026-12-01&to=2026-12-05');
    const cronofyEvents = (events.json as { events: { event_uid: string }[] }).events;
    assert.ok(cronofyEvents.some((e) => e.event_uid === created?.id));
  });

  test('a subscription hears only its change types; a deleted one hears nothing more', async () => {
    const sub = await subscribe('/only-deleted', 'deleted');
    const made = await graph.me.events.post({
      subject: 'Short-lived',
      start: { dateTime: '2026-12-03T09:00:00', timeZone: 'UTC' },
      end: { dateTime: '2026-12-03T10:00:00', timeZone: 'UTC' },
    });
    await graph.me.events.byEventId(made!.id!).patch({ subject: 'Still here' });
    await graph.me.events.byEventId(made!.id!).delete();
    await receiver.waitFor((rs) => notificationItems(rs, '/only-deleted').length >= 1);
    await h.service.dispatcher.runUntilIdle();
    const items = notificationItems(receiver.requests, '/only-deleted');
    assert.deepEqual(
      items.map((i) => [i.changeType, i.clientState]),
      [['deleted', '/only-deleted']],
    );
    await graph.subscriptions.bySubscriptionId(sub!.id!).delete();
    await graph.me.events.post({
      subject: 'Unheard',
      start: { dateTime: '2026-12-04T09:00:00', timeZone: 'UTC' },
      end: { dateTime: '2026-12-04T10:00:00', timeZone: 'UTC' },
    });
    await h.service.dispatcher.runUntilIdle();
    assert.equal(notificationItems(receiver.requests, '/only-deleted').length, 1);
  });
});
