/**
 * Scenario 3. N channels on one calendar of one account. The Cronofy face allows 128
 * channels per account, so the channel rows are inserted straight into the store; the one
 * change goes through the public API. Time runs from sending the upsert to the last arrival.
 * Baseline: the raw loop sending N signed POSTs, from its first send to the last arrival.
 * Both start cold (a fresh process, new connections); the same again once warm: a second
 * change after the first fan-out (past the channels' quiet interval), against the raw
 * loop's second burst in the same process.
 */
import type { BenchContext } from '../context.ts';
import { runScript } from '../context.ts';
import { sleep, wallNow } from '../clock.ts';
import { BenchServer } from '../server.ts';
import { insertChannels, openBenchStore } from '../setup.ts';
import { ApiClient } from '../api-client.ts';
import { createAccount } from '../../src/core/accounts.ts';

export async function fanout(
  ctx: BenchContext,
): Promise<{ ms: number; baseMs: number; warmMs: number; warmBaseMs: number }> {
  const n = Math.round(10_000 * ctx.scale);
  const dir = ctx.scratch('fan');
  const b = await openBenchStore(dir);
  const acc = await createAccount(b.core, { clientId: b.clientId, email: 'fan@bench.invalid' });
  await insertChannels(
    b,
    Array.from({ length: n }, (_, i) => ({
      accountId: acc.accountId,
      callbackUrl: `${ctx.receiver.okUrl}/ok/fan-${i}`,
      calendarIds: [acc.calendarId],
    })),
    'fan',
  );
  await b.store.close();
  ctx.log(`  set-up: 1 account, ${n} channels on its calendar inserted into the store`);

  ctx.receiver.reset();
  const server = await BenchServer.start({ dataDir: dir, cpuProfDir: ctx.cpuProfDir });
  const api = new ApiClient(server.url, 1);
  const t0 = wallNow();
  const status = await api.upsertEvent({ token: acc.accessToken, calendarId: acc.calendarId });
  if (status !== 202) throw new Error(`upsert answered ${status}`);
  const s = await ctx.receiver.expect('fan', n, 60_000);
  if (s.count < n) ctx.log(`  only ${s.count} of ${n} arrived`);
  // Past every channel's quiet interval after its delivery (CALPUSH_MIN_INTERVAL_MS, 250).
  await sleep(1000);
  ctx.receiver.reset();
  const t1 = wallNow();
  const again = await api.upsertEvent({ token: acc.accessToken, calendarId: acc.calendarId });
  if (again !== 202) throw new Error(`upsert answered ${again}`);
  const warm = await ctx.receiver.expect('fan', n, 60_000);
  if (warm.count < n) ctx.log(`  warm: only ${warm.count} of ${n} arrived`);
  await api.close();
  await server.stop();

  ctx.receiver.reset();
  const out = await runScript('./baseline.ts', {
    url: `${ctx.receiver.okUrl}/ok/fbase`,
    count: n,
    concurrency: 128,
  });
  const { startedAt } = JSON.parse(out) as { startedAt: number };
  const bs = await ctx.receiver.expect('fbase', n, 60_000);

  ctx.receiver.reset();
  const warmOut = await runScript('./baseline.ts', {
    url: `${ctx.receiver.okUrl}/ok/fwarm`,
    count: n,
    concurrency: 128,
    rounds: 2,
  });
  const warmStart = (JSON.parse(warmOut) as { startedAt: number }).startedAt;
  const wb = await ctx.receiver.expect('fwarm', 2 * n, 60_000);
  return {
    ms: s.last - t0,
    baseMs: bs.last - startedAt,
    warmMs: warm.last - t1,
    warmBaseMs: wb.last - warmStart,
  };
}
