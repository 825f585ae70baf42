import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { GraphServiceClient } from '@microsoft/msgraph-sdk';
import type { Harness, TestAccount } from './support/harness.ts';
import { createTestAccount, startHarness } from './support/harness.ts';
import { Receiver } from './support/receiver.ts';
import {
  graphClientFor,
  graphReply,
  notificationItems,
  validationTokenOf,
} from './support/graph.ts';

/** Kiota's ODataError: Graph's envelope parsed, its `error` under `errorEscaped`. */
interface ODataFailure {
  responseStatusCode: number;
  errorEscaped?: { code?: string; message?: string };
  message: string;
}

async function failure(promise: Promise<unknown>): Promise<ODataFailure> {
  try {
    await promise;
  } catch (err) {
    return err as ODataFailure;
  }
  assert.fail('expected the call to fail');
}

const hours = (n: number) => new Date(Date.now() + n * 3_600_000);

describe('Graph subscriptions through @microsoft/msgraph-sdk', () => {
  let h: Harness;
  let receiver: Receiver;
  let account: TestAccount;
  let graph: GraphServiceClient;

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

  test('create validates the endpoint, then an event change is notified with clientState', async () => {
    const sub = await graph.subscriptions.post({
      changeType: 'created,updated,deleted',
      notificationUrl: `${receiver.url}/hook?tenant=a`,
      resource: 'me/events',
      expirationDateTime: hours(24),
      clientState: 'secret-state',
    });
    assert.ok(sub?.id);
    assert.equal(sub.resource, 'me/events');
    assert.equal(sub.clientState, 'secret-state');
    assert.equal(sub.changeType, 'created,updated,deleted');
    assert.equal(sub.latestSupportedTlsVersion, 'v1_2');
    const handshake = receiver.requests.find((r) => validationTokenOf(r) !== undefined);
    assert.ok(handshake);
    assert.match(handshake.path, /^\/hook\?tenant=a&validationToken=/);
    assert.equal(handshake.body, '');

    const upsert = await fetch(`${h.url}/v1/calendars/${account.calendarId}/events`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${account.accessToken}`,
        'content-type': 'application/json',
      },
      body: JSON.stringify({
        event_id: 'booking-1',
        summary: 'From Cronofy',
        start: '2026-12-01T09:00:00Z',
        end: '2026-12-01T10:00:00Z',
      }),
    });
    assert.equal(upsert.status, 202);
    await receiver.waitFor((rs) => notificationItems(rs, '/hook?tenant=a').length > 0);
    const [item] = notificationItems(receiver.requests, '/hook?tenant=a');
    assert.equal(item?.subscriptionId, sub.id);
    assert.equal(item?.changeType, 'created');
    assert.equal(item?.clientState, 'secret-state');
    assert.match(String(item?.resource), new RegExp(`^Users/${account.accountId}/Events/`));
  });

  test('a receiver that fails the handshake gets a 400 ValidationError and no subscription', async () => {
    const bad = await Receiver.start();
    try {
      const attempt = (path: string) =>
        failure(
          graph.subscriptions.post({
            changeType: 'created',
            notificationUrl: `${bad.url}${path}`,
            resource: '/me/events',
            expirationDateTime: hours(2),
          }),
        );
      bad.reply = { status: 200 };
      const empty = await attempt('/empty');
      assert.equal(empty.responseStatusCode, 400);
      assert.equal(empty.errorEscaped?.code, 'ValidationError');
      assert.match(empty.message, /Subscription validation request failed/);
      bad.reply = (r) => ({
        status: 200,
        headers: { 'content-type': 'text/plain' },
        // Echoed without decoding: Graph's token has spaces and colons in it.
        body: r.path.split('validationToken=')[1] ?? '',
      });
      const encoded = await attempt('/encoded');
      assert.match(encoded.message, /exactly match validationToken/);
      bad.reply = { status: 500 };
      const refused = await attempt('/error');
      assert.match(refused.message, /must respond with 200 OK/);
      const list = await graph.subscriptions.get();
      assert.ok(!(list?.value ?? []).some((sub) => sub.notificationUrl?.startsWith(bad.url)));
    } finally {
      await bad.close();
    }
  });

  test('renew, change the URL, list without clientState, reauthorize, delete', async () => {
    const sub = await graph.subscriptions.post({
      changeType: 'updated',
      notificationUrl: `${receiver.url}/renew-a`,
      resource: `users/${account.accountId}/calendars/${account.calendarId}/events`,
      expirationDateTime: hours(1),
      clientState: 'kept',
    });
    const id = sub!.id!;
    const later = hours(48);
    const renewed = await graph.subscriptions.bySubscriptionId(id).patch({
      expirationDateTime: later,
    });
    assert.equal(renewed?.expirationDateTime?.getTime(), later.getTime());
    const moved = await graph.subscriptions.bySubscriptionId(id).patch({
      notificationUrl: `${receiver.url}/renew-b`,
    });
    assert.equal(moved?.notificationUrl, `${receiver.url}/renew-b`);
    const empty = await failure(graph.subscriptions.bySubscriptionId(id).patch({}));
    assert.equal(empty.responseStatusCode, 400);

    const list = await graph.subscriptions.get();
    const listed = list?.value?.find((s) => s.id === id);
    assert.ok(listed);
    assert.equal(listed.clientState, undefined);
    const raw = await fetch(`${h.url}/v1.0/subscriptions`, {
      headers: { authorization: `Bearer ${account.accessToken}` },
    });
    const rawList = (await raw.json()) as { value: Record<string, unknown>[] };
    assert.equal(rawList.value.find((s) => s.id === id)?.clientState, null);
    assert.equal(listed.resource, sub?.resource);
    await graph.subscriptions.bySubscriptionId(id).reauthorize.post();
    // Paged: one a page here, the next page through the absolute nextLink.
    const first = await graph.subscriptions.get({ queryParameters: { top: 1 } });
    assert.equal(first?.value?.length, 1);
    assert.ok(first?.odataNextLink?.startsWith(`${h.url}/v1.0/subscriptions?`));
    const second = await graph.subscriptions.withUrl(first.odataNextLink!).get();
    assert.ok((second?.value?.length ?? 0) >= 1);
    assert.notEqual(second?.value?.[0]?.id, first?.value?.[0]?.id);

    await graph.subscriptions.bySubscriptionId(id).delete();
    const gone = await failure(graph.subscriptions.bySubscriptionId(id).get());
    assert.equal(gone.responseStatusCode, 404);
    assert.equal(gone.errorEscaped?.code, 'ResourceNotFound');
  });

  test('bad requests: change types, expiry bounds, resources, clientState', async () => {
    const base = {
      changeType: 'created',
      notificationUrl: `${receiver.url}/bad`,
      resource: 'me/events',
      expirationDateTime: hours(2),
    };
    const cases: [Record<string, unknown>, string, RegExp][] = [
      [{ changeType: 'created,moved' }, 'InvalidRequest', /moved/],
      [{ expirationDateTime: hours(-1) }, 'ExtensionError', /future/],
      [{ expirationDateTime: hours(24 * 8) }, 'ExtensionError', /10080 minutes/],
      [{ resource: 'me/messages' }, 'InvalidRequest', /not supported/],
      [{ clientState: 'x'.repeat(129) }, 'InvalidRequest', /clientState/],
    ];
    for (const [change, code, message] of cases) {
      const failed = await failure(graph.subscriptions.post({ ...base, ...change }));
      assert.equal(failed.responseStatusCode, 400, JSON.stringify(change));
      assert.equal(failed.errorEscaped?.code, code);
      assert.match(failed.message, message);
    }
    const other = await failure(
      graph.subscriptions.post({ ...base, resource: 'users/someone-else/events' }),
    );
    assert.equal(other.responseStatusCode, 403);
    // Earlier than 45 minutes out is raised to 45 minutes.
    const soon = await graph.subscriptions.post({ ...base, expirationDateTime: hours(0.1) });
    const lifetime = soon!.expirationDateTime!.getTime() - Date.now();
    assert.ok(lifetime > 44 * 60_000 && lifetime <= 45 * 60_000, String(lifetime));
  });
});
