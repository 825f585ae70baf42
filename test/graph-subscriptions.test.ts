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

interface ODataFailure {
  responseStatusCode: number;
  error?: { code?: string; message?: string };
  code?: string;
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
});
