import { Worker } from 'node:worker_threads';
import type { HttpSender, HttpSenderOptions, RequestHandle, SendResult } from './http-sender.ts';
import type { FromSender, SendRequest, ToSender } from './sender-thread-protocol.ts';

/** How long the thread gets to close its connections before it is stopped. */
const CLOSE_GRACE_MS = 5000;

interface Pending {
  readonly resolve: (result: SendResult) => void;
  readonly handle: RequestHandle;
}

/**
 * An HttpSender whose HTTP client runs in a worker thread. The dispatcher's thread keeps the
 * store, the claims and the signing; the sockets, the HTTP parsing and their garbage move to
 * a second core. Requests made in one turn of the event loop travel in one message.
 */
export class ThreadedHttpSender implements HttpSender {
  readonly #options: HttpSenderOptions;
  #worker: Worker | undefined;
  readonly #pending = new Map<number, Pending>();
  #batch: SendRequest[] = [];
  #nextId = 1;

  constructor(options: HttpSenderOptions) {
    this.#options = options;
  }

  send(
    url: string,
    headers: Record<string, string>,
    body: string | undefined,
    handle: RequestHandle,
  ): Promise<SendResult> {
    const id = this.#nextId++;
    const worker = this.#ensureWorker();
    return new Promise<SendResult>((resolve) => {
      // The thread keeps the process alive exactly while it has work.
      if (this.#pending.size === 0) worker.ref();
      this.#pending.set(id, { resolve, handle });
      if (this.#batch.length === 0) queueMicrotask(() => this.#post());
      this.#batch.push({ id, url, headers, body, writeBy: handle.writeBy });
      handle.attach((reason) => {
        if (!this.#pending.has(id)) return;
        const message: ToSender = { op: 'abort', id, reason: reason.message };
        // Not yet handed over: it must not leave at all.
        const queued = this.#batch.findIndex((r) => r.id === id);
        if (queued >= 0) {
          this.#batch.splice(queued, 1);
          this.#settle(id, { error: reason.message });
          return;
        }
        worker.postMessage(message);
      });
    });
  }

  async close(): Promise<void> {
    const worker = this.#worker;
    if (!worker) return;
    this.#post();
    const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
    // An idle thread is unref'd; shutting it down must keep the process alive until it is gone.
    worker.ref();
    worker.postMessage({ op: 'close' } satisfies ToSender);
    // A thread stuck in a close (a socket that will not end) must not hold the shutdown.
    const stuck = setTimeout(() => void worker.terminate(), CLOSE_GRACE_MS);
    await exited;
    clearTimeout(stuck);
  }

  #post(): void {
    if (this.#batch.length === 0 || !this.#worker) return;
    const message: ToSender = { op: 'send', requests: this.#batch };
    this.#batch = [];
    this.#worker.postMessage(message);
  }

  #settle(id: number, result: SendResult): void {
    const pending = this.#pending.get(id);
    if (!pending) return;
    this.#pending.delete(id);
    if (this.#pending.size === 0) this.#worker?.unref();
    // Nothing is left to abort: the handle lets go of its closure, as the in-process sender's do.
    pending.handle.detach();
    pending.resolve(result);
  }

  #ensureWorker(): Worker {
    if (this.#worker) return this.#worker;
    const worker = new Worker(new URL('./sender-thread.ts', import.meta.url), {
      workerData: this.#options,
      resourceLimits: { maxOldGenerationSizeMb: 48, maxYoungGenerationSizeMb: 8 },
    });
    worker.on('message', (message: FromSender) => {
      for (const { id, ...result } of message.outcomes) this.#settle(id, result);
    });
    worker.on('error', () => undefined);
    worker.once('exit', () => {
      // Whatever was on the wire has no answer now; the next send starts a fresh thread.
      if (this.#worker === worker) this.#worker = undefined;
      this.#batch = [];
      for (const id of [...this.#pending.keys()]) {
        this.#settle(id, { error: 'sender thread exited' });
      }
    });
    worker.unref();
    this.#worker = worker;
    return worker;
  }
}
