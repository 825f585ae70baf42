/**
 * Scenario 6. N live channels (100 per account) inserted into the store, server started and
 * left idle 3 s; RSS read from /proc. Then one account gets a change (written into the store
 * while the server runs, found by its 200 ms tick), the server delivers its 100 notifications
 * and idles 3 s more: the second reading is a server that has worked. Baseline: the same
 * server over an empty store. Database bytes per channel = growth of the SQLite file
 * (page_count × page_size) / N.
 */
import { sql } from 'kysely';
import type { BenchContext } from '../context.ts';
import { sleep } from '../clock.ts';
import { BenchServer } from '../server.ts';
import { insertAccounts, insertChannels, openBenchStore, recordChanges } from '../setup.ts';
import type { BenchStore } from '../setup.ts';

async function dbBytes(b: BenchStore): Promise<number> {
  const { rows } = await sql<{
    bytes: number;
  }>`select page_count * page_size as bytes from pragma_page_count(), pragma_page_size()`.execute(
    b.store.db,
  );
  return Number(rows[0]?.bytes ?? 0);
}

async function idleRss(dataDir: string, cpuProfDir: string | undefined): Promise<number> {
  const server = await BenchServer.start({ dataDir, cpuProfDir });
  await sleep(3000);
  const rss = server.rss();
  await server.stop();
  return rss;
}

export async function footprint(ctx: BenchContext): Promise<{
  rss: number;
  rssAfterWork: number;
  emptyRss: number;
  bytesPerChannel: number;
  channels: number;
}> {
  const n = Math.round(100_000 * ctx.scale);
  const emptyDir = ctx.scratch('fpe');
  await (await openBenchStore(emptyDir)).store.close();
  const emptyRss = await idleRss(emptyDir, undefined);

  const dir = ctx.scratch('fp');
  const b = await openBenchStore(dir);
  const before = await dbBytes(b);
  const accounts = await insertAccounts(b, n / 100, 'fp');
  await insertChannels(
    b,
    Array.from({ length: n }, (_, i) => ({
      accountId: accounts[i % accounts.length]!,
      callbackUrl: `${ctx.receiver.okUrl}/ok/fp-${i}`,
    })),
    'fp',
  );
  const bytesPerChannel = ((await dbBytes(b)) - before) / n;
  await b.store.close();
  ctx.log(`  set-up: ${n / 100} accounts, ${n} channels inserted into the store`);

  ctx.receiver.reset();
  const server = await BenchServer.start({ dataDir: dir, cpuProfDir: ctx.cpuProfDir });
  await sleep(3000);
  const rss = server.rss();
  const writer = await openBenchStore(dir);
  await recordChanges(writer, accounts.slice(0, 1));
  await writer.store.close();
  const perAccount = n / accounts.length;
  await ctx.receiver.expect('fp', perAccount, 30_000);
  await sleep(3000);
  const rssAfterWork = server.rss();
  await server.stop();
  ctx.log(`  second reading after delivering ${perAccount} notifications and idling 3 s`);
  return { rss, rssAfterWork, emptyRss, bytesPerChannel, channels: n };
}
