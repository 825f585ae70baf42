/**
 * The load generator for API writes, in its own process: autocannon POSTs managed-event
 * upserts (`POST /v1/calendars/{id}/events`) spread over the given accounts, each upsert
 * with a fresh event_id. argv[2] is JSON { url, connections, seconds, targets: [{token,
 * calendarId}] | null, read?: true }; null targets send the same body to `url` itself (the
 * baseline). With `read`, each request is instead an authenticated `GET /v1/account`: the
 * cost of the HTTP stack and authentication alone, with no write behind it. With `get` (a
 * path), each request is an authenticated GET of that path with the first target's token
 * (scenario 9's week reads).
 * Prints autocannon's result as one JSON line.
 */
import autocannon from 'autocannon';

interface Target {
  readonly token: string;
  readonly calendarId: string;
}
interface Args {
  readonly url: string;
  readonly connections: number;
  readonly seconds: number;
  readonly targets: readonly Target[] | null;
  readonly read?: boolean;
  readonly get?: string;
}

const args = JSON.parse(process.argv[2] ?? '{}') as Args;
let n = 0;
const targets = args.targets;

function body(): string {
  n++;
  return JSON.stringify({
    event_id: `bench-${process.pid}-${n}`,
    summary: 'Bench event',
    description: 'Written by the benchmark',
    start: '2026-03-01T09:00:00Z',
    end: '2026-03-01T10:00:00Z',
    tzid: 'Etc/UTC',
  });
}

const result = await autocannon({
  url: args.url,
  connections: args.connections,
  duration: args.seconds,
  requests: [
    {
      method: args.read || args.get ? 'GET' : 'POST',
      setupRequest: (req) => {
        if (args.get) {
          const token = targets?.[0]?.token ?? '';
          return { ...req, path: args.get, headers: { authorization: `Bearer ${token}` } };
        }
        const headers: Record<string, string> = { 'content-type': 'application/json' };
        let path = new URL(args.url).pathname;
        if (targets) {
          const t = targets[n % targets.length];
          if (t) {
            headers.authorization = `Bearer ${t.token}`;
            path = `/v1/calendars/${t.calendarId}/events`;
          }
        }
        if (args.read) {
          // Reads take their turn over the accounts as writes do (a write's turn moves on
          // when its body is made).
          n++;
          return { ...req, path: '/v1/account', headers };
        }
        return { ...req, path, headers, body: body() };
      },
    },
  ],
});
process.stdout.write(
  JSON.stringify({
    rps: result.requests.total / result.duration,
    total: result.requests.total,
    p50: result.latency.p50,
    p99: result.latency.p99,
    max: result.latency.max,
    errors: result.errors,
    timeouts: result.timeouts,
    non2xx: result.non2xx,
  }) + '\n',
);
