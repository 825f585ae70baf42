/*
 * The sender thread: runs the HTTP client for the dispatcher, which stays on the main thread
 * with the store. Requests arrive and outcomes leave in batches, one message per turn of
 * either event loop.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { createHttpSender, RequestHandle } from './http-sender.ts';
import type { HttpSenderOptions } from './http-sender.ts';
import type { FromSender, SendOutcome, ToSender } from './sender-thread-protocol.ts';

const port = parentPort;
if (!port) throw new Error('sender-thread.ts runs as a worker thread');

const sender = createHttpSender(workerData as HttpSenderOptions);
const handles = new Map<number, RequestHandle>();
let outcomes: SendOutcome[] = [];
let flushQueued = false;

function flush(): void {
  flushQueued = false;
  const message: FromSender = { op: 'done', outcomes };
  outcomes = [];
  port?.postMessage(message);
}

function finished(outcome: SendOutcome): void {
  handles.delete(outcome.id);
  outcomes.push(outcome);
  if (!flushQueued) {
    flushQueued = true;
    setImmediate(flush);
  }
}

port.on('message', (message: ToSender) => {
  switch (message.op) {
    case 'send':
      for (const { id, url, headers, body, writeBy } of message.requests) {
        const handle = new RequestHandle(writeBy);
        handles.set(id, handle);
        sender.send(url, headers, body, handle).then(
          (result) => finished({ id, ...result }),
          (err: unknown) => finished({ id, error: String(err) }),
        );
      }
      break;
    case 'abort':
      handles.get(message.id)?.abort(new Error(message.reason));
      break;
    case 'close':
      void sender.close().finally(() => port.close());
      break;
  }
});
