/**
 * Scenario 8's raw limit for polls: a minimal loop sending the same requests as calpush's
 * idle polls (a conditional GET of a feed; the CalDAV probe, a PROPFIND Depth 1 with the
 * provider's own body and Basic credentials) with a pooled undici client, the same bounds
 * (32 at once, 4 per host:port) and nothing else: no parsing, no store, no scheduler.
 * Run as its own process, like the server.
 *
 * argv[2] is JSON: { bases, count, kind, concurrency, perOrigin, rounds }: `count` sources
 * spread over the upstream `bases` as the scenario spreads them; each round polls every
 * source once, and the last round is reported (the first ones warm up). Prints
 * { startedAt, endedAt, cpuUs, count, unexpected }.
 */
import { Agent, request } from 'undici';
import { probeBody } from '../src/sources/caldav/calendar-props.ts';
import { davUrl, FEED_ETAG, FEED_LAST_MODIFIED, feedUrl } from './poll-upstreams.ts';
import { wallNow } from './clock.ts';

interface Args {
  readonly bases: readonly string[];
  readonly count: number;
  readonly kind: 'ics' | 'caldav';
  readonly concurrency: number;
  readonly perOrigin: number;
  readonly rounds: number;
}

const args = JSON.parse(process.argv[2] ?? '{}') as Args;
const agent = new Agent({ connections: args.perOrigin, pipelining: 1, keepAliveTimeout: 30_000 });
const authorization = `Basic ${Buffer.from('bench:bench-password').toString('base64')}`;
const expected = args.kind === 'ics' ? 304 : 207;
const urls = Array.from({ length: args.count }, (_, i) =>
  args.kind === 'ics' ? feedUrl(args.bases, i) : davUrl(args.bases, i),
);
let unexpected = 0;

async function poll(url: string): Promise<void> {
  const res =
    args.kind === 'ics'
      ? await request(url, {
          method: 'GET',
          dispatcher: agent,
          headers: {
            accept: 'text/calendar, */*;q=0.5',
            'if-none-match': FEED_ETAG,
            'if-modified-since': FEED_LAST_MODIFIED,
            'user-agent': 'calpush',
          },
        })
      : await request(url, {
          method: 'PROPFIND',
          dispatcher: agent,
          headers: {
            'content-type': 'application/xml; charset=utf-8',
            depth: '1',
            authorization,
            'user-agent': 'calpush',
          },
          body: probeBody,
        });
  await res.body.dump();
  if (res.statusCode !== expected) unexpected++;
}

let startedAt = wallNow();
let cpuAtStart = process.cpuUsage();
for (let round = 0; round < args.rounds; round++) {
  startedAt = wallNow();
  cpuAtStart = process.cpuUsage();
  let next = 0;
  const worker = async () => {
    while (next < urls.length) await poll(urls[next++]!);
  };
  await Promise.all(Array.from({ length: args.concurrency }, worker));
}
const endedAt = wallNow();
const cpu = process.cpuUsage(cpuAtStart);
await agent.close();
process.stdout.write(
  JSON.stringify({
    startedAt,
    endedAt,
    cpuUs: cpu.user + cpu.system,
    count: urls.length,
    unexpected,
  }) + '\n',
);
