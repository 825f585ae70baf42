/**
 * Scenario 2. One channel on each of N accounts (created through the core, as the Cronofy
 * face would); a steady stream of event upserts through the public API, round-robin over
 * the accounts. Latency runs from the moment the API request is sent (the change commits
 * before the response, so this is an upper bound on commit → receipt) to the receiver's
 * arrival time, both on the same wall clock. A notification covers every change of its
 * channel sent before it arrived and not covered yet (coalescing).
 */
import type { BenchContext } from '../context.ts';
import { runScript } from '../context.ts';
import { percentile, sleep, wallNow } from '../clock.ts';
import { BenchServer } from '../server.ts';
import { openBenchStore } from '../setup.ts';
import { ApiClient } from '../api-client.ts';
import type { ApiTarget } from '../api-client.ts';
import { createAccount } from '../../src/core/accounts.ts';
import { createCronofyChannel } from '../../src/core/channels.ts';

export interface LatencyResult {
  readonly p50: number;
  readonly p95: number;
  readonly p99: number;
  readonly max: number;
  readonly changes: number;
  readonly uncovered: number;
  readonly errors: number;
  readonly base: { p50: number; p95: number; p99: number };
}

export async function latency(ctx: BenchContext): Promise<LatencyResult> {
  const channels = Math.round(1000 * ctx.scale);
  const rate = 1000;
  const seconds = 30 * ctx.scale;
  const dir = ctx.scratch('lat');
  const b = await openBenchStore(dir);
  const targets: ApiTarget[] = [];
  for (let i = 0; i < channels; i++) {
    const acc = await createAccount(b.core, { clientId: b.clientId, email: `l${i}@bench.invalid` });
    await createCronofyChannel(b.core, {
      accountId: acc.accountId,
      clientId: b.clientId,
      callbackUrl: `${ctx.receiver.okUrl}/ok/lat-${i}`,
      calendarIds: null,
      onlyManaged: false,
    });
    targets.push({ token: acc.accessToken, calendarId: acc.calendarId });
  }
  await b.store.close();
  ctx.log(`  set-up: ${channels} accounts and channels created through the core`);

  ctx.receiver.reset();
  const server = await BenchServer.start({
    dataDir: dir,
    env: { CALPUSH_RATE_LIMIT: '0' },
    cpuProfDir: ctx.cpuProfDir,
  });
  await ctx.receiver.expect('lat', channels, 30_000); // the verifications
  await sleep(500);
  ctx.receiver.reset();

  const api = new ApiClient(server.url, 64);
  const total = Math.round(rate * seconds);
  const sent: number[][] = targets.map(() => []);
  let errors = 0;
  const pending: Promise<void>[] = [];
  const start = wallNow();
  for (let k = 0; k < total; k++) {
    const due = start + (k * 1000) / rate;
    const wait = due - wallNow();
    if (wait > 1) await sleep(wait);
    const i = k % channels;
    sent[i]!.push(wallNow());
    pending.push(
      api.upsertEvent(targets[i]!).then(
        (status) => void (status === 202 || errors++),
        () => void errors++,
      ),
    );
  }
  await Promise.all(pending);
  await api.close();
  // Wait for the tail: until nothing new arrives for half a second.
  let last = -1;
  for (;;) {
    await sleep(500);
    const { count } = await ctx.receiver.stats('lat');
    if (count === last) break;
    last = count;
  }
  const arrivals = await ctx.receiver.arrivals('lat');
  await server.stop();

  const byChannel: number[][] = targets.map(() => []);
  for (const a of arrivals)
    byChannel[Number(a.path.slice(a.path.lastIndexOf('-') + 1))]!.push(a.at);
  const latencies: number[] = [];
  let uncovered = 0;
  for (let i = 0; i < channels; i++) {
    const sends = sent[i]!;
    const got = byChannel[i]!.sort((x, y) => x - y);
    let j = 0;
    for (const at of got) {
      while (j < sends.length && sends[j]! < at) latencies.push(at - sends[j++]!);
    }
    uncovered += sends.length - j;
  }
  latencies.sort((x, y) => x - y);

  ctx.receiver.reset();
  await runScript('./baseline.ts', { url: `${ctx.receiver.okUrl}/ok/lbase`, rate, seconds });
  const bs = await ctx.receiver.expect('lbase', total, 30_000);
  const base = [...bs.latencies].sort((x, y) => x - y);
  return {
    p50: percentile(latencies, 50),
    p95: percentile(latencies, 95),
    p99: percentile(latencies, 99),
    max: latencies.at(-1) ?? Number.NaN,
    changes: total,
    uncovered,
    errors,
    base: { p50: percentile(base, 50), p95: percentile(base, 95), p99: percentile(base, 99) },
  };
}
