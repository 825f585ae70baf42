import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Delivery } from '../domain/delivery.ts';
import { RequestHandle } from './http-sender.ts';
import type { InFlight } from './in-flight-requests.ts';
import { InFlightRequests } from './in-flight-requests.ts';

function entry(notificationId: number, channelId: string, startedAt: number): InFlight {
  const delivery = { notificationId, channel: { id: channelId } } as unknown as Delivery;
  return { delivery, handle: new RequestHandle(), startedAt };
}

test('a close aborts the requests of its channels only', () => {
  const wire = new InFlightRequests();
  const a = entry(1, 'chn_a', 0);
  const b = entry(2, 'chn_b', 0);
  wire.add(a);
  wire.add(b);
  wire.abortChannels(new Set(['chn_a']));
  assert.equal(a.handle.reason?.message, 'channel closed');
  assert.equal(b.handle.reason, undefined);
});

test('requests older than the timeout are aborted, younger ones left alone', () => {
  const wire = new InFlightRequests();
  const old = entry(1, 'chn_a', 1000);
  const young = entry(2, 'chn_b', 1001);
  wire.add(old);
  wire.add(young);
  wire.abortOverdue(6001, 5000);
  assert.equal(old.handle.reason?.message, 'timed out after 5000 ms');
  assert.equal(young.handle.reason, undefined);
});

test('settles once the tasks of the requests on the wire have, and forgets deleted ones', async () => {
  const wire = new InFlightRequests();
  const a = entry(1, 'chn_a', 0);
  const b = entry(2, 'chn_b', 0);
  let finish = () => {};
  a.task = new Promise<void>((resolve) => (finish = resolve));
  b.task = new Promise<void>(() => {});
  wire.add(a);
  wire.add(b);
  wire.delete(b);
  assert.equal(wire.size, 1);
  let settled = false;
  const done = wire.settled().then(() => (settled = true));
  await Promise.resolve();
  assert.equal(settled, false);
  finish();
  await done;
  assert.equal(settled, true);
});
