import { isIP } from 'node:net';
import { Agent, request } from 'undici';
import { isPublicAddress } from '../domain/address-policy.ts';
import { safeLookup } from './safe-lookup.ts';

export interface SendResult {
  /** Undefined when no response came (refused, reset, timed out, unsafe address). */
  readonly status?: number | undefined;
  readonly retryAfter?: string | undefined;
  readonly error?: string | undefined;
}

export interface HttpSender {
  send(
    url: string,
    headers: Record<string, string>,
    body: string | undefined,
    signal: AbortSignal,
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
    async send(url, headers, body, signal) {
      if (!options.dev) {
        // Literal addresses never reach the lookup hook, so they are checked here.
        const host = new URL(url).hostname.replace(/^\[|\]$/g, '');
        if (isIP(host) !== 0 && !isPublicAddress(host)) {
          return { error: `refusing non-public address ${host}` };
        }
      }
      try {
        const res = await request(url, {
          method: 'POST',
          headers,
          body,
          dispatcher: agent,
          signal,
        });
        // Drain the body so the connection goes back to the pool.
        await res.body.dump({ limit: 64 * 1024 });
        const retryAfter = res.headers['retry-after'];
        return {
          status: res.statusCode,
          retryAfter: Array.isArray(retryAfter) ? retryAfter[0] : retryAfter,
        };
      } catch (err) {
        return { error: describe(err) };
      }
    },
    close: () => agent.close(),
  };
}
