import type { OutboundHttp, OutboundRequest } from '../../src/net/outbound-http.ts';
import { NO_EXCEPTIONS } from '../../src/net/safe-lookup.ts';
import { createOutboundHttp } from '../../src/net/outbound-http.ts';

export interface Exchange {
  readonly request: OutboundRequest;
  readonly status: number;
  /** Response body bytes: what a poll costs. */
  readonly bytes: number;
}

/** The outbound client a provider gets, counting every request and the bytes of each answer. */
export class CountingHttp implements OutboundHttp {
  readonly exchanges: Exchange[] = [];
  readonly #inner: OutboundHttp;

  constructor(inner: OutboundHttp) {
    this.#inner = inner;
  }

  /** A client that may reach loopback (dev mode), as tests need. */
  static loopback(): CountingHttp {
    return new CountingHttp(
      createOutboundHttp({
        dev: true,
        exceptions: NO_EXCEPTIONS,
        timeoutMs: 10_000,
        maxBodyBytes: 20 * 1024 * 1024,
        connectionsPerOrigin: 4,
      }),
    );
  }

  async request(request: OutboundRequest) {
    const response = await this.#inner.request(request);
    this.exchanges.push({ request, status: response.status, bytes: response.body.length });
    return response;
  }

  close(): Promise<void> {
    return this.#inner.close();
  }

  /** Counts what the given step costs. */
  async measure<T>(
    step: () => Promise<T>,
  ): Promise<{ result: T; requests: number; bytes: number; exchanges: Exchange[] }> {
    const from = this.exchanges.length;
    const result = await step();
    const exchanges = this.exchanges.slice(from);
    const bytes = exchanges.reduce((sum, e) => sum + e.bytes, 0);
    return { result, requests: exchanges.length, bytes, exchanges };
  }
}
