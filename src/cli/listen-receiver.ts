import { createServer } from 'node:http';
import type { IncomingHttpHeaders, Server } from 'node:http';
import { request } from 'undici';
import type { Expected } from './listen-check.ts';
import { formatLine, inspect } from './listen-check.ts';

/** calpush waits 5 s for an answer: the forward must end before that. */
const FORWARD_TIMEOUT_MS = 4_000;
/** Headers that describe one connection, not the message: never passed on. */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'transfer-encoding',
  'te',
  'upgrade',
  'host',
  'content-length',
  'expect',
  'proxy-connection',
]);

export interface ReceiverOptions {
  readonly expected: Expected;
  /** Where each notification goes on to, unchanged; none: answered 200 here. */
  readonly forwardTo: string | undefined;
  readonly print: (line: string) => void;
  readonly now: () => number;
}

function forwardedHeaders(headers: IncomingHttpHeaders): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined && !HOP_BY_HOP.has(name)) out[name] = value;
  }
  return out;
}

/** Passes a notification on; the status to answer calpush with (502 if it could not). */
async function forward(
  url: string,
  method: string,
  headers: IncomingHttpHeaders,
  body: Buffer,
): Promise<{ status: number; note: string }> {
  try {
    const res = await request(url, {
      method,
      headers: forwardedHeaders(headers),
      body: body.length > 0 && method !== 'GET' && method !== 'HEAD' ? body : undefined,
      headersTimeout: FORWARD_TIMEOUT_MS,
      bodyTimeout: FORWARD_TIMEOUT_MS,
    });
    await res.body.dump();
    return { status: res.statusCode, note: `→ ${res.statusCode}` };
  } catch (err) {
    return { status: 502, note: `→ forward failed: ${(err as Error).message}` };
  }
}

/**
 * The local receiver: checks each notification, prints one line for it, forwards it
 * unchanged and answers with the forward's status (200 with no forward, 502 if it failed).
 */
export function createListenReceiver(options: ReceiverOptions): Server {
  return createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const at = options.now();
      const seen = inspect(options.expected, req.headers, body, at);
      const target = options.forwardTo;
      const answered = target
        ? forward(target, req.method ?? 'POST', req.headers, body)
        : Promise.resolve({ status: 200, note: '' });
      void answered.then(({ status, note }) => {
        options.print(formatLine(at, seen, note));
        res.writeHead(status).end();
      });
    });
  });
}
