import { afterEach, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Harness } from './support/harness.ts';
import { createTestAccount, startHarness } from './support/harness.ts';
import { Receiver } from './support/receiver.ts';
import { ManualClock } from '../src/domain/clock.ts';
import { engines } from './support/postgres.ts';
import { callApi } from './support/api.ts';
import { graphClientFor, graphReply, notificationItems } from './support/graph.ts';
import { issueAccessToken, revokeAccessTokens } from '../src/core/access-tokens.ts';
import { hashToken } from '../src/core/ids.ts';

const HOUR = 3_600_000;

let h: Harness | undefined;
let receiver: Receiver | undefined;
afterEach(async () => {
  await h?.close();
  await receiver?.close();
});

for (const engine of engines) {
  test(`revoking the token that made a subscription asks its lifecycle URL to reauthorize, on ${engine}`, async () => {
    const clock = new ManualClock(Date.UTC(2026, 11, 6, 9));
    h = await startHarness({ listen: true, clock, engine });
    const service = h.service;
    receiver = await Receiver.start();
    const hook = receiver;
    hook.reply = graphReply;
    const account = await createTestAccount(service);
    const tokenA = account.accessToken;
    const tokenB = await issueAccessToken(service.core, account.accountId);
    const tokenC = await issueAccessToken(service.core, account.accountId);
    const tokenD = await issueAccessToken(service.core, account.accountId);
    const graphA = graphClientFor(h.url, tokenA);
    const graphB = graphClientFor(h.url, tokenB);
    const graphD = graphClientFor(h.url, tokenD);
    const subscribe = (graph: typeof graphA, clientState: string, lifecycle = true) =>
      graph.subscriptions.post({
        changeType: 'created',
        notificationUrl: `${hook.url}/hook`,
        ...(lifecycle ? { lifecycleNotificationUrl: `${hook.url}/life` } : {}),
        resource: 'me/events',
        expirationDateTime: new Date(clock.now() + 2 * HOUR),
        clientState,
      });
    const byA = await subscribe(graphA, 'made-by-a');
    const byB = await subscribe(graphB, 'made-by-b');
    // Without a lifecycle URL there is nowhere to ask: it just carries on.
    await subscribe(graphA, 'quiet', false);
    // The other faces' channels, made with the same token.
    const cronofy = await callApi<{ channel: { channel_id: string } }>(
      service,
      tokenA,
      'POST',
      '/v1/channels',
      { callback_url: `${hook.url}/cronofy` },
    );
    assert.equal(cronofy.status, 200);
    const google = await fetch(`${h.url}/calendar/v3/calendars/primary/events/watch`, {
      method: 'POST',
      headers: { authorization: `Bearer ${tokenA}`, 'content-type': 'application/json' },
      body: JSON.stringify({ id: 'google-a', type: 'web_hook', address: `${hook.url}/google` }),
    });
    assert.equal(google.status, 200);
    await service.dispatcher.runUntilIdle();
    const lifecycle = () =>
      notificationItems(hook.requests, '/life').map((i) => [
        i.lifecycleEvent,
        i.subscriptionId,
        i.clientState,
      ]);
    const otherFaces = () =>
      hook.requests.filter((r) => r.path === '/cronofy' || r.path === '/google').length;
    const otherFacesBefore = otherFaces();

    const revokedA = await revokeAccessTokens(service.core, { token: tokenA });
    assert.deepEqual(revokedA, {
      revoked: 1,
      remaining: 3,
      closedChannels: 0,
      noticedChannels: 1,
    });
    await service.dispatcher.runUntilIdle();
    assert.deepEqual(lifecycle(), [['reauthorizationRequired', byA?.id, 'made-by-a']]);
    // Cronofy and Google channels are told nothing, and stay open.
    assert.equal(otherFaces(), otherFacesBefore);
    const states = await service.store.db
      .selectFrom('channels')
      .select(['dialect', 'state'])
      .where('dialect', 'in', ['cronofy', 'google'])
      .orderBy('dialect')
      .execute();
    assert.deepEqual(states, [
      { dialect: 'cronofy', state: 'active' },
      { dialect: 'google', state: 'active' },
    ]);

    // Another of the account's tokens reauthorizes it, and then answers for it.
    await graphB.subscriptions.bySubscriptionId(byA!.id!).reauthorize.post();
    const bound = await service.store.db
      .selectFrom('channels')
      .select('creator_token_hash')
      .where('public_id', '=', byA!.id!)
      .executeTakeFirstOrThrow();
    assert.equal(bound.creator_token_hash, hashToken(tokenB));
    await service.dispatcher.sweepExpiries();
    await service.dispatcher.runUntilIdle();
    assert.equal(lifecycle().length, 1);

    // A token that made nothing asks nothing.
    const revokedC = await revokeAccessTokens(service.core, { token: tokenC });
    assert.equal(revokedC.noticedChannels, 0);
    await service.dispatcher.runUntilIdle();
    assert.equal(lifecycle().length, 1);

    // B now answers for both of its subscriptions: each is asked once.
    const revokedB = await revokeAccessTokens(service.core, { token: tokenB });
    assert.equal(revokedB.noticedChannels, 2);
    // Past the quiet interval that follows the first notice's delivery.
    clock.advance(1000);
    await service.dispatcher.runUntilIdle();
    assert.deepEqual(
      lifecycle()
        .slice(1)
        .sort((x, y) => String(x[2]).localeCompare(String(y[2]))),
      [
        ['reauthorizationRequired', byA?.id, 'made-by-a'],
        ['reauthorizationRequired', byB?.id, 'made-by-b'],
      ],
    );

    // Never reauthorized: the subscription still hears changes until it expires as set.
    const heard = () => notificationItems(hook.requests, '/hook').length;
    const before = heard();
    await graphD.me.events.post({
      subject: 'Still heard',
      start: { dateTime: '2026-12-10T09:00:00', timeZone: 'UTC' },
      end: { dateTime: '2026-12-10T10:00:00', timeZone: 'UTC' },
    });
    clock.advance(1000);
    await service.dispatcher.runUntilIdle();
    assert.equal(heard() - before, 3);
    clock.advance(2 * HOUR + 1);
    await service.dispatcher.sweepExpiries();
    const left = await graphD.subscriptions.get();
    assert.deepEqual(left?.value ?? [], []);
  });
}
