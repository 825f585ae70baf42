import { after, before, beforeEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { IncomingHttpHeaders, Server, ServerResponse } from 'node:http';
import { createServer as createTcpServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { once } from 'node:events';
import { ManualClock } from '../src/domain/clock.ts';
import type { KnownCalendar, PollResult, SourceErrorKind } from '../src/domain/source.ts';
import { SourceError } from '../src/domain/source.ts';
import { createOutboundHttp } from '../src/net/outbound-http.ts';
import type { OutboundHttp } from '../src/net/outbound-http.ts';
import { createIcsProvider } from '../src/sources/ics/ics-provider.ts';
import { refreshIntervalOf } from '../src/sources/ics/feed-cursor.ts';
import { feedUrlOf } from '../src/sources/ics/feed-url.ts';

interface Reply {
  readonly status: number;
  readonly headers?: Record<string, string>;
  readonly body?: string;
}

interface Logged {
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  readonly status: number;
  /** Bytes of the answer on the wire, status line and headers included. */
  readonly bytes: number;
  readonly bodyBytes: number;
}

/** A feed on 127.0.0.1 that answers conditional GETs the way a static file server does. */
class FeedServer {
  body = '';
  etag: string | null = null;
  lastModified: string | null = null;
  /** Fixed answers by path, instead of the feed. */
  readonly replies = new Map<string, Reply>();
  readonly log: Logged[] = [];
  readonly #server: Server;

  private constructor(server: Server) {
    this.#server = server;
  }

  static async start(): Promise<FeedServer> {
    const server = createServer((req, res) => feed.handle(req.url ?? '/', req.headers, res));
    const feed = new FeedServer(server);
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    return feed;
  }

  url(path = '/feed.ics'): string {
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}${path}`;
  }

  reset(): void {
    this.body = '';
    this.etag = null;
    this.lastModified = null;
    this.replies.clear();
    this.log.length = 0;
  }

  private answer(path: string, headers: IncomingHttpHeaders): Reply {
    const fixed = this.replies.get(path);
    if (fixed) return fixed;
    if (path !== '/feed.ics') return { status: 404, body: 'no such feed' };
    const validators: Record<string, string> = {};
    if (this.etag) validators.etag = this.etag;
    if (this.lastModified) validators['last-modified'] = this.lastModified;
    const ifNoneMatch = headers['if-none-match'];
    const fresh =
      ifNoneMatch !== undefined
        ? ifNoneMatch === this.etag
        : headers['if-modified-since'] !== undefined &&
          headers['if-modified-since'] === this.lastModified;
    if (fresh) return { status: 304, headers: validators };
    return {
      status: 200,
      headers: { 'content-type': 'text/calendar; charset=utf-8', ...validators },
      body: this.body,
    };
  }

  private handle(path: string, headers: IncomingHttpHeaders, res: ServerResponse): void {
    const socket = res.socket!;
    const before = socket.bytesWritten;
    const reply = this.answer(path, headers);
    const body = Buffer.from(reply.body ?? '');
    res.on('finish', () => {
      this.log.push({
        path,
        headers,
        status: reply.status,
        bytes: socket.bytesWritten - before,
        bodyBytes: body.length,
      });
    });
    res.writeHead(reply.status, { ...reply.headers, 'content-length': String(body.length) });
    res.end(body);
  }

  async close(): Promise<void> {
    this.#server.closeAllConnections();
    this.#server.close();
    await once(this.#server, 'close');
  }
}

/** The core's side of a poll: the stored versions and cursor of the feed's calendar. */
class FakeStore {
  readonly versions = new Map<string, string>();
  cursor: unknown = null;
  known = false;
  itemReads = 0;

  calendars(url: string): KnownCalendar[] {
    if (!this.known) return [];
    return [
      {
        remoteId: url,
        cursor: this.cursor,
        items: () => {
          this.itemReads++;
          return Promise.resolve(new Map(this.versions));
        },
      },
    ];
  }

  apply(result: PollResult): void {
    this.known = result.calendars.length > 0;
    for (const change of result.changes) {
      for (const item of change.changed) this.versions.set(item.key, item.version);
      for (const key of change.removed) this.versions.delete(key);
      this.cursor = change.cursor;
    }
  }
}

function event(uid: string, summary: string, stamp = '20260101T000000Z'): string[] {
  return [
    'BEGIN:VEVENT',
    `UID:${uid}`,
    `DTSTAMP:${stamp}`,
    'DTSTART;TZID=Europe/Paris:20261207T090000',
    'DTEND;TZID=Europe/Paris:20261207T100000',
    `SUMMARY:${summary}`,
    'DESCRIPTION:A longer description, as feeds carry, so that a body weighs what a real one does.',
    'END:VEVENT',
  ];
}

function feedText(
  summaries: ReadonlyMap<string, string>,
  options: { stamp?: string; header?: string[] } = {},
): string {
  const lines = ['BEGIN:VCALENDAR', 'VERSION:2.0', 'PRODID:-//test feed//EN'];
  lines.push(...(options.header ?? ['X-WR-CALNAME:Team events', 'X-WR-TIMEZONE:Europe/Paris']));
  for (const [uid, summary] of summaries) lines.push(...event(uid, summary, options.stamp));
  lines.push('END:VCALENDAR', '');
  return lines.join('\r\n');
}

const twoHundred = () =>
  new Map(Array.from({ length: 200 }, (_, i) => [`event-${i}@example.com`, `Event ${i}`]));

let server: FeedServer;
let http: OutboundHttp;
const clock = new ManualClock(Date.parse('2026-12-06T10:00:00Z'));
let provider: ReturnType<typeof createIcsProvider>;

before(async () => {
  server = await FeedServer.start();
  http = createOutboundHttp({
    dev: true,
    exceptions: { hosts: [], ranges: [] },
    timeoutMs: 5000,
    maxBodyBytes: 20 * 1024 * 1024,
    connectionsPerOrigin: 4,
  });
  provider = createIcsProvider({ http, clock });
});
after(async () => {
  await http.close();
  await server.close();
});
beforeEach(() => server.reset());

async function poll(store: FakeStore, url = server.url()): Promise<PollResult> {
  const result = await provider.poll({
    url,
    credentials: null,
    cursor: null,
    calendars: store.calendars(feedUrlOf(url)),
  });
  store.apply(result);
  return result;
}

async function rejectsWith(
  run: Promise<unknown>,
  kind: SourceErrorKind,
  pattern: RegExp,
): Promise<SourceError> {
  let caught: unknown;
  await run.catch((err: unknown) => (caught = err));
  assert.ok(caught instanceof SourceError, `expected a SourceError, got ${String(caught)}`);
  assert.equal(caught.kind, kind, caught.message);
  assert.match(caught.message, pattern);
  return caught;
}

const changedKeys = (result: PollResult) =>
  result.changes.flatMap((c) => c.changed.map((item) => item.key));
const removedKeys = (result: PollResult) => result.changes.flatMap((c) => c.removed);

test('connect finds the one calendar of a feed, named by X-WR-CALNAME or the URL', async () => {
  server.body = feedText(new Map([['a', 'Alpha']]));
  const connected = await provider.connect({ url: server.url(), credentials: null });
  assert.equal(connected.cursor, null);
  assert.deepEqual(connected.calendars, [
    { remoteId: server.url(), name: 'Team events', color: null, timeZone: 'Europe/Paris' },
  ]);
  server.body = feedText(new Map([['a', 'Alpha']]), { header: [] });
  const unnamed = await provider.connect({ url: server.url(), credentials: null });
  assert.deepEqual(unnamed.calendars, [
    { remoteId: server.url(), name: 'feed', color: null, timeZone: null },
  ]);
});

test('with an ETag, an idle poll is a 304 that sends no body', async (t) => {
  server.body = feedText(twoHundred());
  server.etag = '"v1"';
  const store = new FakeStore();
  const first = await poll(store);
  assert.equal(changedKeys(first).length, 200);
  assert.equal(first.changes[0]!.changed[0]!.events[0]!.summary, 'Event 0');
  assert.deepEqual(
    first.calendars.map((c) => c.name),
    ['Team events'],
  );
  const reads = store.itemReads;

  const second = await poll(store);
  assert.deepEqual(second.changes, []);
  assert.deepEqual(second.calendars, first.calendars);
  assert.equal(store.itemReads, reads, 'an idle poll read the stored versions');
  const [full, idle] = server.log;
  assert.equal(server.log.length, 2);
  assert.equal(idle!.headers['if-none-match'], '"v1"');
  assert.equal(full!.status, 200);
  assert.equal(idle!.status, 304);
  assert.equal(idle!.bodyBytes, 0);
  assert.ok(idle!.bytes < 300, `an idle poll cost ${idle!.bytes} bytes`);
  assert.ok(full!.bytes > 50_000, `a full download cost ${full!.bytes} bytes`);
  t.diagnostic(
    `200 events: full download ${full!.bytes} B, idle poll ${idle!.bytes} B, 1 request each`,
  );
});

test('with only Last-Modified, an idle poll sends If-Modified-Since and gets a 304', async () => {
  server.body = feedText(twoHundred());
  server.lastModified = 'Sat, 05 Dec 2026 08:00:00 GMT';
  const store = new FakeStore();
  await poll(store);
  const second = await poll(store);
  assert.deepEqual(second.changes, []);
  const idle = server.log[1]!;
  assert.equal(idle.headers['if-modified-since'], 'Sat, 05 Dec 2026 08:00:00 GMT');
  assert.equal(idle.headers['if-none-match'], undefined);
  assert.equal(idle.status, 304);
  assert.equal(idle.bodyBytes, 0);
});

test('without validators, the body hash and the per-UID versions find the changes', async () => {
  const summaries = new Map([
    ['a', 'Alpha'],
    ['b', 'Beta'],
    ['c', 'Gamma'],
  ]);
  server.body = feedText(summaries);
  const store = new FakeStore();
  assert.deepEqual(changedKeys(await poll(store)).sort(), ['a', 'b', 'c']);
  assert.equal(server.log[0]!.headers['if-none-match'], undefined);
  assert.equal(server.log[0]!.headers['if-modified-since'], undefined);

  // The same body: no changes, and the stored versions are not even read.
  const reads = store.itemReads;
  assert.deepEqual((await poll(store)).changes, []);
  assert.equal(store.itemReads, reads);

  // Every DTSTAMP moved (the server stamps each download): still no changes.
  server.body = feedText(summaries, { stamp: '20261206T100000Z' });
  assert.deepEqual((await poll(store)).changes, []);
  assert.equal(store.itemReads, reads);

  summaries.set('b', 'Beta, moved');
  server.body = feedText(summaries, { stamp: '20261206T110000Z' });
  const changed = await poll(store);
  assert.deepEqual(changedKeys(changed), ['b']);
  assert.deepEqual(removedKeys(changed), []);
  assert.equal(changed.changes[0]!.changed[0]!.events[0]!.summary, 'Beta, moved');

  summaries.delete('a');
  server.body = feedText(summaries);
  const removed = await poll(store);
  assert.deepEqual(changedKeys(removed), []);
  assert.deepEqual(removedKeys(removed), ['a']);
  assert.deepEqual([...store.versions.keys()].sort(), ['b', 'c']);
  assert.equal(server.log.length, 5);
});

test('a new ETag on the same feed only moves the cursor', async () => {
  server.body = feedText(new Map([['a', 'Alpha']]));
  server.etag = '"v1"';
  const store = new FakeStore();
  await poll(store);
  server.etag = '"v2"';
  const moved = await poll(store);
  assert.equal(moved.changes.length, 1);
  assert.deepEqual([moved.changes[0]!.changed, moved.changes[0]!.removed], [[], []]);
  assert.deepEqual((await poll(store)).changes, []);
  assert.equal(server.log[2]!.headers['if-none-match'], '"v2"');
  assert.equal(server.log[2]!.status, 304);
});

test('REFRESH-INTERVAL and X-PUBLISHED-TTL are kept for the scheduler', async () => {
  server.body = feedText(new Map([['a', 'Alpha']]), {
    header: ['REFRESH-INTERVAL;VALUE=DURATION:PT4H', 'X-PUBLISHED-TTL:PT1H'],
  });
  const store = new FakeStore();
  await poll(store);
  assert.equal(refreshIntervalOf(store.cursor), 4 * 3_600_000);
  server.body = feedText(new Map([['a', 'Alpha']]), { header: ['X-PUBLISHED-TTL:PT30M'] });
  await poll(store);
  assert.equal(refreshIntervalOf(store.cursor), 30 * 60_000);
  assert.equal(refreshIntervalOf(null), null);
});

test('a malformed feed is malformed; a page that is not iCalendar is not_found', async () => {
  server.body = 'BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:x\r\nthis is no line\r\n';
  await rejectsWith(
    provider.connect({ url: server.url(), credentials: null }),
    'malformed',
    /invalid line/,
  );
  await rejectsWith(poll(new FakeStore()), 'malformed', /invalid line/);
  server.body = feedText(new Map([['ok', 'Fine']])).replace(
    'END:VCALENDAR',
    'BEGIN:VEVENT\r\nUID:bad@example.com\r\nDTSTART:20261332T090000\r\nEND:VEVENT\r\nEND:VCALENDAR',
  );
  await rejectsWith(poll(new FakeStore()), 'malformed', /"bad@example.com": DTSTART/);
  server.replies.set('/login', {
    status: 200,
    headers: { 'content-type': 'text/html' },
    body: '<!DOCTYPE html><title>Sign in</title>',
  });
  await rejectsWith(
    provider.connect({ url: server.url('/login'), credentials: null }),
    'not_found',
    /text\/html, not iCalendar/,
  );
});

test('answers map to auth, not_found and unavailable with Retry-After', async () => {
  const cases: [Reply, SourceErrorKind, number | undefined][] = [
    [{ status: 401 }, 'auth', undefined],
    [{ status: 403 }, 'auth', undefined],
    [{ status: 404 }, 'not_found', undefined],
    [{ status: 410 }, 'not_found', undefined],
    [{ status: 400 }, 'not_found', undefined],
    [{ status: 503, headers: { 'retry-after': '120' } }, 'unavailable', 120_000],
    [
      { status: 429, headers: { 'retry-after': 'Sun, 06 Dec 2026 10:01:30 GMT' } },
      'unavailable',
      90_000,
    ],
    [{ status: 500 }, 'unavailable', undefined],
  ];
  for (const [reply, kind, retryAfterMs] of cases) {
    server.replies.set('/feed.ics', reply);
    const err = await rejectsWith(
      poll(new FakeStore()),
      kind,
      new RegExp(`answered ${reply.status}`),
    );
    assert.equal(err.retryAfterMs, retryAfterMs, `${reply.status}`);
    assert.doesNotMatch(err.message, /feed\.ics/, 'the message names the path');
  }
});

test('redirects are followed, credentials only to the same origin', async () => {
  server.body = feedText(new Map([['a', 'Alpha']]));
  server.replies.set('/old', { status: 301, headers: { location: '/feed.ics' } });
  const credentials = { username: 'ann', password: 's3cret' };
  const connected = await provider.connect({ url: server.url('/old'), credentials });
  assert.equal(connected.calendars[0]!.remoteId, server.url('/old'));
  const expected = `Basic ${Buffer.from('ann:s3cret').toString('base64')}`;
  assert.deepEqual(
    server.log.map((l) => [l.path, l.status, l.headers.authorization]),
    [
      ['/old', 301, expected],
      ['/feed.ics', 200, expected],
    ],
  );
  // To another origin (another port): the credentials stay behind.
  const other = await FeedServer.start();
  try {
    other.body = server.body;
    server.replies.set('/away', { status: 307, headers: { location: other.url() } });
    await provider.connect({ url: server.url('/away'), credentials });
    assert.equal(server.log.at(-1)!.headers.authorization, expected);
    assert.deepEqual(
      other.log.map((l) => [l.status, l.headers.authorization]),
      [[200, undefined]],
    );
  } finally {
    await other.close();
  }
  server.replies.set('/loop', { status: 302, headers: { location: '/loop' } });
  await rejectsWith(
    provider.connect({ url: server.url('/loop'), credentials: null }),
    'unavailable',
    /more than 5 redirects/,
  );
});

test('webcal:// is fetched as https://', async () => {
  assert.equal(feedUrlOf('webcal://example.com/a.ics'), 'https://example.com/a.ics');
  assert.equal(feedUrlOf('WEBCALS://example.com/a.ics'), 'https://example.com/a.ics');
  assert.equal(feedUrlOf('http://example.com/a.ics'), 'http://example.com/a.ics');
  // A plain TCP listener sees what arrives: a TLS ClientHello starts with byte 0x16.
  const firstBytes: number[] = [];
  const tcp = createTcpServer((socket) => {
    socket.once('data', (chunk: Buffer) => {
      firstBytes.push(chunk[0]!);
      socket.destroy();
    });
  });
  tcp.listen(0, '127.0.0.1');
  await once(tcp, 'listening');
  try {
    const port = (tcp.address() as AddressInfo).port;
    await rejectsWith(
      provider.connect({ url: `webcal://127.0.0.1:${port}/feed.ics`, credentials: null }),
      'unavailable',
      /127\.0\.0\.1/,
    );
    assert.deepEqual(firstBytes, [0x16]);
  } finally {
    tcp.close();
  }
});

test('a feed over the size limit is malformed; a refused address is refused', async () => {
  server.body = feedText(twoHundred());
  const small = createOutboundHttp({
    dev: true,
    exceptions: { hosts: [], ranges: [] },
    timeoutMs: 5000,
    maxBodyBytes: 10_000,
    connectionsPerOrigin: 1,
  });
  const guarded = createOutboundHttp({
    dev: false,
    exceptions: { hosts: [], ranges: [] },
    timeoutMs: 5000,
    maxBodyBytes: 10_000,
    connectionsPerOrigin: 1,
  });
  try {
    await rejectsWith(
      createIcsProvider({ http: small }).connect({ url: server.url(), credentials: null }),
      'malformed',
      /too large.*10000 bytes/,
    );
    await rejectsWith(
      createIcsProvider({ http: guarded }).connect({ url: server.url(), credentials: null }),
      'refused',
      /may not be fetched/,
    );
  } finally {
    await small.close();
    await guarded.close();
  }
});
