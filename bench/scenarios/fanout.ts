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

  const server = await BenchServer.start({ dataDir: dir, cpuProfDir: ctx.cpuProfDir });
  const api = new ApiClient(server.url, 1);
  /** One change through the API; time from sending it to the last of the n arrivals. */
  const fanOut = async (label: string): Promise<number> => {
    ctx.receiver.reset();
    const sentAt = wallNow();
    const status = await api.upsertEvent({ token: acc.accessToken, calendarId: acc.calendarId });
    const answeredAt = wallNow();
    if (status !== 202) throw new Error(`upsert answered ${status}`);
    const s = await ctx.receiver.expect('fan', n, 60_000);
    if (s.count < n) ctx.log(`  ${label}only ${s.count} of ${n} arrived`);
    // Where the time goes: the write that queues n notifications, then the delivery.
    if (s.count > 0) {
      ctx.log(
        `  ${label}upsert answered after ${Math.round(answeredAt - sentAt)} ms, first arrival ` +
          `after ${Math.round(s.first - sentAt)} ms, last after ${Math.round(s.last - sentAt)} ms`,
      );
    }
    return s.last - sentAt;
  };
  const ms = await fanOut('');
  // Past every channel's quiet interval after its delivery (CALPUSH_MIN_INTERVAL_MS, 250).
  await sleep(1000);
  const warmMs = await fanOut('warm: ');
  await api.close();
  await server.stop();

  /** The raw loop's n POSTs, `rounds` times in one process; time to the last round's end. */
  const rawBurst = async (path: string, rounds: number): Promise<number> => {
    ctx.receiver.reset();
    const out = await runScript('./baseline.ts', {
      url: `${ctx.receiver.okUrl}/ok/${path}`,
      count: n,
      concurrency: 128,
      rounds,
    });
    const { startedAt } = JSON.parse(out) as { startedAt: number };
    const received = await ctx.receiver.expect(path, rounds * n, 60_000);
    return received.last - startedAt;
  };
  return { ms, baseMs: await rawBurst('fbase', 1), warmMs, warmBaseMs: await rawBurst('fwarm', 2) };
}
