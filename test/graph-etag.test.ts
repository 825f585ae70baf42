import { afterEach, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Harness } from './support/harness.ts';
import { createTestAccount, startHarness } from './support/harness.ts';
import { Receiver } from './support/receiver.ts';
import { ManualClock } from '../src/domain/clock.ts';
import { engines } from './support/postgres.ts';
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

for (const engine of engines) {
  test(`a notification's @odata.etag is W/"{changeKey}" of the latest change it covers, on ${engine}`, async () => {
    const clock = new ManualClock(Date.UTC(2026, 11, 6, 9));
    h = await startHarness({ listen: true, clock, engine });
    const service = h.service;
    receiver = await Receiver.start();
    const hook = receiver;
    hook.reply = graphReply;
    const account = await createTestAccount(service);
    const graph = graphClientFor(h.url, account.accessToken);
    await graph.subscriptions.post({
      changeType: 'created,updated',
      notificationUrl: `${hook.url}/hook`,
      resource: 'me/events',
      expirationDateTime: new Date(clock.now() + 3_600_000),
    });
    /** The event as a raw read gives it: its etag and its changeKey. */
    const read = async (id: string) => {
      const response = await fetch(`${h!.url}/v1.0/me/events/${id}`, {
        headers: { authorization: `Bearer ${account.accessToken}` },
      });
      const json = (await response.json()) as { '@odata.etag': string; changeKey: string };
      assert.equal(json['@odata.etag'], `W/"${json.changeKey}"`);
      return json['@odata.etag'];
    };
    const etags = () =>
      notificationItems(hook.requests, '/hook').map(
        (i) => (i.resourceData as Record<string, unknown>)['@odata.etag'],
      );
    const deliver = async () => {
      clock.advance(1000);
      await service.dispatcher.runUntilIdle();
    };

    const created = await graph.me.events.post({
      subject: 'Etag',
      start: { dateTime: '2026-12-10T09:00:00', timeZone: 'UTC' },
      end: { dateTime: '2026-12-10T10:00:00', timeZone: 'UTC' },
    });
    const id = created!.id!;
    await deliver();
    assert.deepEqual(etags(), [await read(id)]);

    // Two changes that wait together are one notification, naming the second.
    await graph.me.events.byEventId(id).patch({ subject: 'Once' });
    const afterFirst = await read(id);
    await graph.me.events.byEventId(id).patch({ subject: 'Twice' });
    await deliver();
    const latest = await read(id);
    assert.notEqual(latest, afterFirst);
    assert.deepEqual(etags().slice(1), [latest]);

    // A change made while a notification is on the wire, which then fails: the retry
    // carries both, and names the later.
    await graph.me.events.byEventId(id).patch({ subject: 'Third' });
    hook.reply = (r) => (validationTokenOf(r) === undefined ? 'hang' : graphReply(r));
    const seen = hook.requests.length;
    clock.advance(1000);
    const running = service.dispatcher.runUntilIdle();
    await hook.waitFor((rs) => rs.length > seen);
    hook.reply = graphReply;
    await graph.me.events.byEventId(id).patch({ subject: 'Fourth' });
    const fourth = await read(id);
    await running;
    clock.advance(10 * 60_000);
    await service.dispatcher.runUntilIdle();
    assert.equal(etags().at(-1), fourth);
    assert.equal(etags().filter((e) => e === fourth).length, 1);
  });
}
