/**
 * The webhook receiver, run in its own process (forked with IPC). Two ports: `ok` answers
 * every POST at once (paths `/slow/...` answer after 1 s and keep their bodies; paths
 * `/items/...` count the items of a Graph notification's `value`, not requests), `hang`
 * accepts connections and never answers. It records the arrival time of each request, and a
 * baseline request's `x-sent-at` header gives its one-way latency directly.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { wallNow } from './clock.ts';

export type ReceiverCommand =
  | { readonly op: 'reset' }
  | { readonly op: 'expect'; readonly prefix: string; readonly count: number }
  | { readonly op: 'stats'; readonly prefix: string }
  | { readonly op: 'arrivals'; readonly prefix: string };

export type ReceiverMessage =
  | { readonly op: 'ready'; readonly okPort: number; readonly hangPort: number }
  | { readonly op: 'reached'; readonly prefix: string; readonly stats: PrefixStats }
  | { readonly op: 'stats'; readonly stats: PrefixStats }
  | { readonly op: 'arrivals'; readonly arrivals: Arrival[] };

export interface PrefixStats {
  readonly count: number;
  readonly first: number;
  readonly last: number;
  /** One-way latencies (ms) of requests that carried `x-sent-at`. */
  readonly latencies: number[];
}

export interface Arrival {
  readonly at: number;
  readonly path: string;
  readonly body?: string;
}

interface Bucket {
  count: number;
  first: number;
  last: number;
  latencies: number[];
  arrivals: Arrival[];
}

const buckets = new Map<string, Bucket>();
const expectations = new Map<string, number>();
const hanging = new Set<ServerResponse>();

/** `/ok/thr-123` → `thr`: the scenario tag before the first dash of the last segment. */
function prefixOf(path: string): string {
  const last = path.slice(path.lastIndexOf('/') + 1);
  const dash = last.indexOf('-');
  return dash < 0 ? last : last.slice(0, dash);
}

function bucket(prefix: string): Bucket {
  let b = buckets.get(prefix);
  if (!b) {
    b = { count: 0, first: 0, last: 0, latencies: [], arrivals: [] };
    buckets.set(prefix, b);
  }
  return b;
}

function statsOf(b: Bucket | undefined): PrefixStats {
  return b
    ? { count: b.count, first: b.first, last: b.last, latencies: b.latencies }
    : { count: 0, first: 0, last: 0, latencies: [] };
}

function send(msg: ReceiverMessage): void {
  process.send?.(msg);
}

function record(req: IncomingMessage, at: number, body: string | undefined, items = 1): void {
  const path = req.url ?? '';
  const prefix = prefixOf(path);
  const b = bucket(prefix);
  if (b.count === 0) b.first = at;
  b.count += items;
  b.last = at;
  const sentAt = req.headers['x-sent-at'];
  if (typeof sentAt === 'string') b.latencies.push(at - Number(sentAt));
  b.arrivals.push(body === undefined ? { at, path } : { at, path, body });
  const want = expectations.get(prefix);
  if (want !== undefined && b.count >= want) {
    expectations.delete(prefix);
    send({ op: 'reached', prefix, stats: statsOf(b) });
  }
}

const ok = createServer((req, res) => {
  const slow = req.url?.startsWith('/slow/') ?? false;
  if (slow) {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      record(req, wallNow(), Buffer.concat(chunks).toString('utf8'));
      setTimeout(() => res.writeHead(200).end(), 1000);
    });
    return;
  }
  if (req.url?.startsWith('/items/')) {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { value: unknown[] };
      record(req, wallNow(), undefined, body.value.length);
      res.writeHead(202, { 'content-length': '0' }).end();
    });
    return;
  }
  // Answer on the end of the body, as any receiver that reads the signed bytes must.
  req.on('data', () => {});
  req.on('end', () => {
    record(req, wallNow(), undefined);
    res.writeHead(200, { 'content-length': '0' }).end();
  });
});

const hang = createServer((req, res) => {
  req.resume();
  hanging.add(res);
  res.on('close', () => hanging.delete(res));
});

for (const server of [ok, hang]) {
  server.keepAliveTimeout = 120_000;
  server.headersTimeout = 0;
  server.requestTimeout = 0;
}

process.on('message', (cmd: ReceiverCommand) => {
  switch (cmd.op) {
    case 'reset':
      buckets.clear();
      expectations.clear();
      break;
    case 'expect': {
      const b = buckets.get(cmd.prefix);
      if (b && b.count >= cmd.count) send({ op: 'reached', prefix: cmd.prefix, stats: statsOf(b) });
      else expectations.set(cmd.prefix, cmd.count);
      break;
    }
    case 'stats':
      send({ op: 'stats', stats: statsOf(buckets.get(cmd.prefix)) });
      break;
    case 'arrivals':
      send({ op: 'arrivals', arrivals: buckets.get(cmd.prefix)?.arrivals ?? [] });
      break;
  }
});
process.on('disconnect', () => process.exit(0));

await new Promise<void>((resolve) => ok.listen(0, '127.0.0.1', resolve));
await new Promise<void>((resolve) => hang.listen(0, '127.0.0.1', resolve));
send({
  op: 'ready',
  okPort: (ok.address() as AddressInfo).port,
  hangPort: (hang.address() as AddressInfo).port,
});
