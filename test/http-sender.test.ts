import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { createHttpSender, RequestHandle, sendClockNow } from '../src/delivery/http-sender.ts';
import type { HttpSender } from '../src/delivery/http-sender.ts';
import { ThreadedHttpSender } from '../src/delivery/threaded-sender.ts';
import { Receiver } from './support/receiver.ts';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** Keeps a weak reference to the abort the sender attaches, to see whether it is let go. */
class WatchedHandle extends RequestHandle {
  attached: WeakRef<object> | undefined;
  override attach(abort: (reason: Error) => void): void {
    this.attached = new WeakRef(abort);
    super.attach(abort);
  }
}

let receiver: Receiver;
let sender: HttpSender;
before(async () => {
  receiver = await Receiver.start();
  sender = createHttpSender({ dev: true, timeoutMs: 5000, connectionsPerOrigin: 4 });
});
after(async () => {
  await sender.close();
  await receiver.close();
});

/** A full collection after the current job, when WeakRef targets are no longer pinned. */
async function collect(): Promise<void> {
  await nextTurn();
  gc();
}

// The abort closure reaches the HTTP client's whole request (headers, body, response); a
// handle kept after the request must not keep all of that alive (see RequestHandle.detach).
for (const [name, reply] of [
  ['answered', { status: 200 }],
  ['refused', { status: 500 }],
] as const) {
  test(`a handle lets go of its request once it is ${name}`, async () => {
    receiver.reply = reply;
    const handle = new WatchedHandle();
    const result = await sender.send(`${receiver.url}/hook`, {}, '{}', handle);
    assert.equal(result.status, reply.status);
    await collect();
    assert.ok(handle.attached, 'the sender attached an abort');
    assert.equal(handle.attached.deref(), undefined, 'the abort closure is still reachable');
    // Aborting a finished request is a no-op, and the reason is still recorded.
    handle.abort(new Error('late'));
    assert.equal(handle.reason?.message, 'late');
  });
}

test('a handle lets go of its request after an abort', async () => {
  receiver.reply = 'hang';
  const handle = new WatchedHandle();
  const before = receiver.requests.length;
  const sent = sender.send(`${receiver.url}/hook`, {}, '{}', handle);
  await receiver.waitForCount(before + 1);
  handle.abort(new Error('channel closed'));
  const result = await sent;
  assert.equal(result.error, 'channel closed');
  await collect();
  assert.equal(handle.attached?.deref(), undefined);
});

test('a handle aborted before its request starts stops it and lets go', async () => {
  receiver.reply = { status: 200 };
  const handle = new WatchedHandle();
  const before = receiver.requests.length;
  handle.abort(new Error('channel closed'));
  const result = await sender.send(`${receiver.url}/hook`, {}, '{}', handle);
  assert.equal(result.error, 'channel closed');
  assert.equal(receiver.requests.length, before, 'an aborted request went out');
  await collect();
  assert.equal(handle.attached?.deref(), undefined);
});

// A process stopped (SIGSTOP, a paused VM) between handing a request over and writing it to a
// new connection would otherwise send it once continued, under a lease another node may hold.
test('a request whose connection is ready only after its writeBy is never written', async () => {
  const fresh = await Receiver.start();
  const own = createHttpSender({ dev: true, timeoutMs: 5000, connectionsPerOrigin: 1 });
  try {
    const late = own.send(`${fresh.url}/late`, {}, '{}', new RequestHandle(sendClockNow() + 20));
    // Nothing of ours runs meanwhile, as in a stopped process: the connection is made after.
    const until = performance.now() + 60;
    while (performance.now() < until) {
      // busy: the event loop is held
    }
    const result = await late;
    assert.equal(result.unsent, true);
    const onTime = await own.send(
      `${fresh.url}/on-time`,
      {},
      '{}',
      new RequestHandle(sendClockNow() + 5000),
    );
    assert.equal(onTime.status, 200);
    assert.deepEqual(
      fresh.requests.map((r) => r.path),
      ['/on-time'],
    );
  } finally {
    await own.close();
    await fresh.close();
  }
});

test('the sender thread holds a request to its writeBy too', async () => {
  const threaded = new ThreadedHttpSender({ dev: true, timeoutMs: 5000, connectionsPerOrigin: 4 });
  try {
    receiver.reply = { status: 200 };
    const before = receiver.requests.length;
    const past = new RequestHandle(sendClockNow() - 1);
    const result = await threaded.send(`${receiver.url}/past`, {}, '{}', past);
    assert.equal(result.unsent, true);
    const sent = await threaded.send(`${receiver.url}/now`, {}, '{}', new RequestHandle());
    assert.equal(sent.status, 200);
    assert.deepEqual(
      receiver.requests.slice(before).map((r) => r.path),
      ['/now'],
    );
  } finally {
    await threaded.close();
  }
});
