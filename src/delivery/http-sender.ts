import { isIP } from 'node:net';
// The Agent's own module: the package entry loads all of undici (fetch, WebSocket, cache,
// mocks), ~12 MB of resident memory the sender never uses.
import Agent from 'undici/lib/dispatcher/agent.js';
import type { Dispatcher } from 'undici';
import { isPublicAddress } from '../domain/address-policy.ts';
import { safeLookup } from '../net/safe-lookup.ts';
import { RESPONSE_EXCERPT_BYTES } from '../domain/attempt-log.ts';

export interface SendResult {
  /** Undefined when no response came (refused, reset, timed out, unsafe address). */
  readonly status?: number | undefined;
  readonly retryAfter?: string | undefined;
  readonly error?: string | undefined;
  /** The start of an answer outside 2xx (RESPONSE_EXCERPT_BYTES at most), for the log. */
  readonly excerpt?: string | undefined;
  /** Nothing was written: the handle's `writeBy` had passed when the connection was ready. */
  readonly unsent?: boolean | undefined;
}

/**
 * The clock `writeBy` is read on: monotonic, and the same in every thread of the process
 * (each thread's `performance.now()` counts from its own start; the origin puts them on one
 * scale).
 */
export function sendClockNow(): number {
  return performance.timeOrigin + performance.now();
}

/**
 * Aborts one request. Lighter than an AbortController per request (no event target, no
 * listeners): the sender attaches the abort once the request has started.
 */
export class RequestHandle {
  #abort: ((reason: Error) => void) | undefined;
  #reason: Error | undefined;
  /**
   * The last moment (on `sendClockNow()`) the request may be written to its connection. It is
   * written a while after it is handed over when a connection has to be made first, and a
   * process stopped meanwhile (SIGSTOP, a VM paused) would otherwise send it once continued,
   * under a lease another node may have taken over since.
   */
  readonly writeBy: number | undefined;

  constructor(writeBy?: number) {
    this.writeBy = writeBy;
  }

  abort(reason: Error): void {
    if (this.#reason) return;
    this.#reason = reason;
    this.#abort?.(reason);
  }

  attach(abort: (reason: Error) => void): void {
    this.#abort = abort;
    if (this.#reason) abort(this.#reason);
  }

  /**
   * The request is over: nothing is left to abort. The abort closure reaches the HTTP
   * client's whole request (headers, body, response). While handles still held it, those
   * objects survived minor GCs and were promoted in bulk, so it is let go as soon as the
   * request ends.
   */
  detach(): void {
    this.#abort = undefined;
  }

  get reason(): Error | undefined {
    return this.#reason;
  }
}

export interface HttpSender {
  send(
    url: string,
    headers: Record<string, string>,
    body: string | undefined,
    handle: RequestHandle,
  ): Promise<SendResult>;
  close(): Promise<void>;
}

export interface HttpSenderOptions {
  readonly dev: boolean;
  readonly timeoutMs: number;
  readonly connectionsPerOrigin: number;
}

function describe(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    const cause = (err as { cause?: unknown }).cause;
    if (err.name === 'AbortError' || code === 'UND_ERR_ABORTED') {
      return cause instanceof Error ? cause.message : 'aborted';
    }
    return typeof code === 'string' ? `${code}: ${err.message}` : err.message;
  }
  return String(err);
}

/**
 * undici's handler interface for one request: no response stream or promise per request,
 * and the response body (which nobody reads) is dropped as it arrives. One object with its
 * methods on the prototype, not five closures, for every notification sent.
 */
class ResponseHandler implements Dispatcher.DispatchHandler {
  readonly #handle: RequestHandle;
  readonly #resolve: (result: SendResult) => void;
  #status: number | undefined;
  #retryAfter: string | undefined;
  #unsent = false;
  /** The start of an answer outside 2xx, kept for the delivery log; a 2xx body is dropped. */
  #excerpt: Buffer[] | undefined;
  #excerptBytes = 0;

  constructor(handle: RequestHandle, resolve: (result: SendResult) => void) {
    this.#handle = handle;
    this.#resolve = resolve;
  }

  /** Called on the turn that writes the request to its connection, just before it. */
  onRequestStart(controller: Dispatcher.DispatchController): void {
    const { writeBy } = this.#handle;
    if (writeBy !== undefined && sendClockNow() > writeBy) {
      this.#unsent = true;
      controller.abort(new Error('not sent: too late to be written under its lease'));
      return;
    }
    this.#handle.attach((reason) => controller.abort(reason));
  }

  onResponseStart(
    _controller: Dispatcher.DispatchController,
    statusCode: number,
    headers: Record<string, string | string[] | undefined>,
  ): void {
    this.#status = statusCode;
    const value = headers['retry-after'];
    this.#retryAfter = Array.isArray(value) ? value[0] : value;
    if (statusCode < 200 || statusCode >= 300) this.#excerpt = [];
  }

  onResponseData(_controller: Dispatcher.DispatchController, chunk: Buffer): void {
    // A delivered notification's answer is read by nobody; a failure's start is logged.
    if (!this.#excerpt || this.#excerptBytes >= RESPONSE_EXCERPT_BYTES) return;
    const part = chunk.subarray(0, RESPONSE_EXCERPT_BYTES - this.#excerptBytes);
    this.#excerpt.push(Buffer.from(part));
    this.#excerptBytes += part.length;
  }

  onResponseEnd(): void {
    this.#handle.detach();
    // PostgreSQL text cannot hold NUL: a receiver's binary answer must not stop the log.
    const excerpt =
      this.#excerpt && Buffer.concat(this.#excerpt).toString('utf8').replaceAll('\0', '');
    this.#resolve({ status: this.#status, retryAfter: this.#retryAfter, excerpt });
  }

  onResponseError(_controller: Dispatcher.DispatchController, err: Error): void {
    this.#handle.detach();
    if (this.#unsent) this.#resolve({ error: err.message, unsent: true });
    else this.#resolve({ error: describe(this.#handle.reason ?? err) });
  }
}

/** A pooled, keep-alive HTTP client that only reaches public addresses outside dev mode. */
export function createHttpSender(options: HttpSenderOptions): HttpSender {
  const agent = new Agent({
    connections: options.connectionsPerOrigin,
    pipelining: 1,
    keepAliveTimeout: 30_000,
    headersTimeout: options.timeoutMs,
    bodyTimeout: options.timeoutMs,
    connect: options.dev
      ? { timeout: options.timeoutMs }
      : { timeout: options.timeoutMs, lookup: safeLookup },
  });

  return {
    send(url, headers, body, handle) {
      let target: URL;
      try {
        target = new URL(url);
      } catch {
        return Promise.resolve({ error: 'invalid callback URL' });
      }
      if (!options.dev) {
        // Literal addresses never reach the lookup hook, so they are checked here.
        const host = target.hostname.replace(/^\[|\]$/g, '');
        if (isIP(host) !== 0 && !isPublicAddress(host)) {
          return Promise.resolve({ error: `refusing non-public address ${host}` });
        }
      }
      return new Promise<SendResult>((resolve) => {
        const handler = new ResponseHandler(handle, resolve);
        try {
          agent.dispatch(
            {
              origin: target.origin,
              path: target.pathname + target.search,
              method: 'POST',
              headers,
              body: body ?? '',
            },
            handler,
          );
        } catch (err) {
          resolve({ error: describe(err) });
        }
      });
    },
    close: () => agent.close(),
  };
}
