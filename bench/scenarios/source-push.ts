/**
 * Scenario 10. Google Calendar accounts as sources, pushed and polled. Server A plays
 * Google (its Google face) with N accounts, one event each; a loopback stand-in of Google's
 * token endpoint hands out A's tokens. Two servers connect every account as a source: P with
 * a public URL (it watches A's calendars, and A pushes to it), Q without (it polls, every
 * 60 s by default; every 30 s in a quick run). Each has one Cronofy channel per source.
 * Changes to A's events, round robin at a steady rate, reach both; latency runs from the
 * change's commit on A (its change log's `at`) to the notification's arrival at the
 * receiver, on the machine's wall clock.
 */
import { freePort } from '../../test/support/free-port.ts';
import type { BenchContext } from '../context.ts';
import { percentile, sleep, wallNow } from '../clock.ts';
import { BenchServer } from '../server.ts';
import { createWatchedAccounts, openBenchStore } from '../setup.ts';
import type { WatchedAccount } from '../setup.ts';
import { arrivalsByChannel, commitTimesByAccount, coveredLatencies } from '../change-arrivals.ts';
import { createAccount } from '../../src/core/accounts.ts';
import { GoogleOAuthStandIn } from '../../test/support/google-oauth.ts';

export interface PushLatency {
  readonly changes: number;
  /** The polled server's interval: the default, or the shortest in a quick run. */
  readonly pollSeconds: number;
  readonly push: Quantiles;
  readonly poll: Quantiles;
}

export interface Quantiles {
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
  /** Changes no notification followed. */
  readonly uncovered: number;
}

/** Quantiles of each change's latency to the first notification of its channel after it. */
function latencies(
  changes: readonly (readonly number[])[],
  arrivals: readonly (readonly number[])[],
): Quantiles {
  const { latencies: all, uncovered } = coveredLatencies(changes, arrivals);
  return {
    p50: percentile(all, 50),
    p99: percentile(all, 99),
    max: all.at(-1) ?? Number.NaN,
    uncovered,
  };
}

async function api(url: string, token: string, method: string, path: string, body?: unknown) {
  const response = await fetch(`${url}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${text}`);
  return (text ? JSON.parse(text) : {}) as Record<string, unknown>;
}

/** Downstream accounts, one per upstream one, each with a channel to `/ok/{tag}-{i}`. */
async function downstream(ctx: BenchContext, dir: string, n: number, tag: string) {
  const b = await openBenchStore(dir);
  const accounts = await createWatchedAccounts(b, {
    accounts: n,
    channelsPerAccount: 1,
    tag,
    callbackUrl: (i) => `${ctx.receiver.okUrl}/ok/${tag}-${i}`,
  });
  await b.store.close();
  return accounts;
}

export async function sourcePush(ctx: BenchContext): Promise<PushLatency> {
  const sources = 10;
  const total = Math.round(1000 * ctx.scale);
  // Two changes a second per source: each channel's quiet interval after a delivery (250 ms)
  // then rarely holds a notification back.
  const rate = 2 * sources;
  // A quick run (the smoke test) polls at the shortest interval, to wait half as long.
  const pollSeconds = ctx.quick ? 30 : 60;
  const oauth = new GoogleOAuthStandIn();
  await oauth.start();
  const upDir = ctx.scratch('gpush-up');
  const u = await openBenchStore(upDir);
  const upstream: WatchedAccount[] = [];
  for (let i = 0; i < sources; i++) {
    const acc = await createAccount(u.core, {
      clientId: u.clientId,
      email: `up${i}@bench.invalid`,
    });
    upstream.push({ accountId: acc.accountId, calendarId: acc.calendarId, token: acc.accessToken });
    oauth.grants.set(`rt-${i}`, acc.accessToken);
  }
  await u.store.close();
  const accountIndex = new Map(upstream.map((a, i) => [a.accountId, i]));
  const pDir = ctx.scratch('gpush-p');
  const qDir = ctx.scratch('gpush-q');
  const pushed = await downstream(ctx, pDir, sources, 'gp');
  const polled = await downstream(ctx, qDir, sources, 'gq');

  const a = await BenchServer.start({ dataDir: upDir, env: { CALPUSH_RATE_LIMIT: '0' } });
  const google = {
    CALPUSH_GOOGLE_API_URL: `${a.url}/calendar/v3`,
    CALPUSH_GOOGLE_OAUTH_URL: oauth.url,
    CALPUSH_GOOGLE_CLIENT_ID: oauth.clientId,
    CALPUSH_GOOGLE_CLIENT_SECRET: oauth.clientSecret,
    CALPUSH_RATE_LIMIT: '0',
  };
  const port = await freePort();
  const p = await BenchServer.start({
    dataDir: pDir,
    port,
    env: { ...google, CALPUSH_PUBLIC_URL: `http://127.0.0.1:${port}` },
  });
  const q = await BenchServer.start({ dataDir: qDir, env: google });
  const servers = [a, p, q];
  try {
    const eventIds: string[] = [];
    for (const acc of upstream) {
      const created = await api(
        a.url,
        acc.token,
        'POST',
        `/calendar/v3/calendars/${encodeURIComponent(acc.calendarId)}/events`,
        {
          summary: 'Bench',
          start: { dateTime: '2026-12-08T15:00:00Z' },
          end: { dateTime: '2026-12-08T16:00:00Z' },
        },
      );
      eventIds.push(String(created['id']));
    }
    for (const [server, accounts] of [
      [p, pushed],
      [q, polled],
    ] as const) {
      for (let i = 0; i < sources; i++) {
        await api(server.url, accounts[i]!.token, 'POST', '/v1/sources', {
          provider: 'google',
          refresh_token: `rt-${i}`,
          poll_interval_seconds: pollSeconds,
        });
      }
    }
    // Connected, first syncs done and P's channels open on A: two per source.
    for (let waited = 0; ; waited += 200) {
      const open = await Promise.all(
        upstream.map(async (acc) => {
          const list = await api(a.url, acc.token, 'GET', '/calendar/v3/channels');
          return (list['items'] as unknown[]).length;
        }),
      );
      if (open.every((n) => n >= 2)) break;
      if (waited > 30_000) throw new Error('the pushing server opened no watch channels');
      await sleep(200);
    }
    await sleep(2000);
    ctx.receiver.reset();

    const start = wallNow();
    const pending: Promise<unknown>[] = [];
    for (let k = 0; k < total; k++) {
      const wait = start + (k * 1000) / rate - wallNow();
      if (wait > 1) await sleep(wait);
      const i = k % sources;
      const acc = upstream[i]!;
      pending.push(
        api(
          a.url,
          acc.token,
          'PATCH',
          `/calendar/v3/calendars/${encodeURIComponent(acc.calendarId)}/events/${eventIds[i]!}`,
          { summary: `Bench ${k}` },
        ),
      );
    }
    await Promise.all(pending);
    ctx.log(`  ${total} changes sent over ${((wallNow() - start) / 1000).toFixed(1)} s`);
    // The polled server reads each source within its interval (+10 % jitter), then delivers:
    // by then every change has had its poll.
    await sleep(pollSeconds * 1100 + 4000);
    const arrivalsP = arrivalsByChannel(await ctx.receiver.arrivals('gp'), sources);
    const arrivalsQ = arrivalsByChannel(await ctx.receiver.arrivals('gq'), sources);
    for (const server of servers) await server.stop();

    const { committed, times } = await commitTimesByAccount(
      { dataDir: upDir },
      accountIndex,
      start,
    );
    return {
      changes: times.length,
      pollSeconds,
      push: latencies(committed, arrivalsP),
      poll: latencies(committed, arrivalsQ),
    };
  } finally {
    for (const server of servers) await server.stop();
    await oauth.close();
  }
}
