// The Agent's own module: the package entry loads all of undici (~12 MB of resident memory).
import Agent from 'undici/lib/dispatcher/agent.js';
import type { Dispatcher } from 'undici';
import type { AddressExceptions } from './safe-lookup.ts';
import { addressGuard, guardedLookup, refusedLiteral } from './safe-lookup.ts';

/** Why an outbound request got no usable answer. */
export type OutboundFailure = 'refused' | 'timeout' | 'too_large' | 'network';

export class OutboundError extends Error {
  override name = 'OutboundError';
  readonly failure: OutboundFailure;
  constructor(failure: OutboundFailure, message: string) {
    super(message);
    this.failure = failure;
  }
}

export interface OutboundRequest {
  readonly method: string;
  readonly url: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string;
}

export interface OutboundResponse {
  readonly status: number;
  /** Lower-case names; a repeated header's values joined with ", ". */
  readonly headers: Readonly<Record<string, string>>;
  /** The body as bytes: how much a poll cost is counted from it. */
  readonly body: Buffer;
}

/** An HTTP client for reading other servers (CalDAV, ICS feeds): bounded in time and size. */
export interface OutboundHttp {
  request(request: OutboundRequest): Promise<OutboundResponse>;
  close(): Promise<void>;
}

export interface OutboundHttpOptions {
  /** Dev mode reaches any address; otherwise public ones and the exceptions only. */
  readonly dev: boolean;
  readonly exceptions: AddressExceptions;
  /** Each request's limit, from connecting to the last byte of the body. */
  readonly timeoutMs: number;
  /** A larger body is refused (`too_large`) as soon as it passes the limit. */
  readonly maxBodyBytes: number;
  readonly connectionsPerOrigin: number;
  /** Added to every request (a User-Agent). */
  readonly headers?: Readonly<Record<string, string>>;
}

/** Collects one response, up to the size limit. */
class BodyCollector implements Dispatcher.DispatchHandler {
  readonly #resolve: (response: OutboundResponse) => void;
  readonly #reject: (err: Error) => void;
  readonly #maxBytes: number;
  #controller: Dispatcher.DispatchController | undefined;
  #status = 0;
  #headers: Record<string, string> = {};
  #chunks: Buffer[] = [];
  #size = 0;
  #failed: Error | undefined;

  constructor(
    maxBytes: number,
    resolve: (response: OutboundResponse) => void,
    reject: (err: Error) => void,
  ) {
    this.#maxBytes = maxBytes;
    this.#resolve = resolve;
    this.#reject = reject;
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.#controller = controller;
  }

  onResponseStart(
    _controller: Dispatcher.DispatchController,
    statusCode: number,
    headers: Record<string, string | string[] | undefined>,
  ): void {
    this.#status = statusCode;
    for (const [name, value] of Object.entries(headers)) {
      if (value !== undefined) {
        this.#headers[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
      }
    }
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    this.#size += chunk.length;
    if (this.#size > this.#maxBytes) {
      this.#failed = new OutboundError('too_large', `response body over ${this.#maxBytes} bytes`);
      controller.abort(this.#failed);
      return;
    }
    this.#chunks.push(chunk);
  }

  onResponseEnd(): void {
    this.#resolve({
      status: this.#status,
      headers: this.#headers,
      body: Buffer.concat(this.#chunks, this.#size),
    });
  }

  onResponseError(_controller: Dispatcher.DispatchController, err: Error): void {
    this.#reject(this.#failed ?? classify(err));
  }

  abort(reason: Error): void {
    this.#failed ??= reason;
    this.#controller?.abort(reason);
  }
}

function classify(err: Error): OutboundError {
  if (err instanceof OutboundError) return err;
  const code = (err as { code?: unknown }).code;
  const cause = (err as { cause?: unknown }).cause;
  if (err.name === 'UnsafeAddressError' || code === 'ECALLBACKADDRESS') {
    return new OutboundError('refused', err.message);
  }
  if (cause instanceof OutboundError) return cause;
  if (typeof code === 'string' && code.includes('TIMEOUT')) {
    return new OutboundError('timeout', err.message);
  }
  return new OutboundError(
    'network',
    typeof code === 'string' ? `${code}: ${err.message}` : err.message,
  );
}

export function createOutboundHttp(options: OutboundHttpOptions): OutboundHttp {
  const guard = addressGuard(options.exceptions);
  const agent = new Agent({
    connections: options.connectionsPerOrigin,
    keepAliveTimeout: 30_000,
    headersTimeout: options.timeoutMs,
    bodyTimeout: options.timeoutMs,
    connect: options.dev
      ? { timeout: options.timeoutMs }
      : { timeout: options.timeoutMs, lookup: guardedLookup(guard) },
  });
  return {
    request(request) {
      let target: URL;
      try {
        target = new URL(request.url);
      } catch {
        return Promise.reject(new OutboundError('network', `invalid URL ${request.url}`));
      }
      if (target.protocol !== 'http:' && target.protocol !== 'https:') {
        return Promise.reject(
          new OutboundError('refused', `unsupported scheme ${target.protocol}`),
        );
      }
      const refused = options.dev ? undefined : refusedLiteral(target.hostname, guard);
      if (refused) return Promise.reject(new OutboundError('refused', refused));
      return new Promise<OutboundResponse>((resolve, reject) => {
        let timer: NodeJS.Timeout | undefined = undefined;
        const collector = new BodyCollector(
          options.maxBodyBytes,
          (response) => {
            clearTimeout(timer);
            resolve(response);
          },
          (err) => {
            clearTimeout(timer);
            reject(err);
          },
        );
        timer = setTimeout(() => {
          const limit = `no complete answer within ${options.timeoutMs} ms`;
          collector.abort(new OutboundError('timeout', limit));
        }, options.timeoutMs);
        try {
          agent.dispatch(
            {
              origin: target.origin,
              path: target.pathname + target.search,
              method: request.method,
              headers: { ...options.headers, ...request.headers },
              body: request.body ?? null,
            },
            collector,
          );
        } catch (err) {
          clearTimeout(timer);
          reject(classify(err instanceof Error ? err : new Error(String(err))));
        }
      });
    },
    close: () => agent.close(),
  };
}
