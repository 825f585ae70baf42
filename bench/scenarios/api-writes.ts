/**
 * Scenario 5. Event upserts through the Cronofy face over HTTP, from autocannon in its own
 * process, spread over accounts that each have channels watching (so every upsert also
 * queues notifications, which the server delivers meanwhile). The per-account rate limit is
 * switched off (CALPUSH_RATE_LIMIT=0). Baseline: the same load generator with the same body
 * against the receiver (a bare Node HTTP server, no persistence). For reference, the same
 * server then answers authenticated reads (`GET /v1/account`) under the same load: the
 * ceiling of its HTTP stack and authentication, which no store change can lift.
 */
import type { BenchContext } from '../context.ts';
import { runScript } from '../context.ts';
import { sleep } from '../clock.ts';
import { BenchServer } from '../server.ts';
import { createWatchedAccounts, openBenchStore } from '../setup.ts';

export interface LoadResult {
  readonly rps: number;
  readonly total: number;
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
  readonly errors: number;
  readonly timeouts: number;
  readonly non2xx: number;
}

export const API_CONNECTIONS = 16;
const ACCOUNTS = 100;
const CHANNELS_PER_ACCOUNT = 2;

export async function apiWrites(
  ctx: BenchContext,
): Promise<{ api: LoadResult; base: LoadResult; reads: LoadResult }> {
  const seconds = Math.max(2, Math.round(15 * ctx.scale));
  const dir = ctx.scratch('api');
  const b = await openBenchStore(dir);
  const targets = await createWatchedAccounts(b, {
    accounts: ACCOUNTS,
    channelsPerAccount: CHANNELS_PER_ACCOUNT,
    tag: 'a',
    callbackUrl: (i, c) => `${ctx.receiver.okUrl}/ok/api-${i}x${c}`,
  });
  await b.store.close();
  ctx.log(
    `  set-up: ${ACCOUNTS} accounts × ${CHANNELS_PER_ACCOUNT} channels created through the core; ` +
      `${API_CONNECTIONS} connections for ${seconds} s; CALPUSH_RATE_LIMIT=0`,
  );

  ctx.receiver.reset();
  const server = await BenchServer.start({
    dataDir: dir,
    env: { CALPUSH_RATE_LIMIT: '0' },
    cpuProfDir: ctx.cpuProfDir,
  });
  await ctx.receiver.expect('api', ACCOUNTS * CHANNELS_PER_ACCOUNT, 30_000);
  await sleep(300);
  const cpu0 = server.cpuSeconds();
  const api = JSON.parse(
    await runScript('./load-api.ts', {
      url: server.url,
      connections: API_CONNECTIONS,
      seconds,
      targets,
    }),
  ) as LoadResult;
  const cpu = server.cpuSeconds() - cpu0;
  // CPU per request is steadier than the rate on a shared machine: compare versions by it.
  ctx.log(
    `  server CPU during the load: ${cpu.toFixed(1)} s over ${seconds} s, ` +
      `${((cpu * 1e6) / Math.max(1, api.total)).toFixed(0)} µs per upsert`,
  );
  const reads = JSON.parse(
    await runScript('./load-api.ts', {
      url: server.url,
      connections: API_CONNECTIONS,
      seconds: Math.max(2, Math.round(seconds / 3)),
      targets,
      read: true,
    }),
  ) as LoadResult;
  await server.stop();
  const base = JSON.parse(
    await runScript('./load-api.ts', {
      url: `${ctx.receiver.okUrl}/ok/abase`,
      connections: API_CONNECTIONS,
      seconds,
      targets: null,
    }),
  ) as LoadResult;
  return { api, base, reads };
}
