/**
 * Write-path micro-benchmark (`node bench/writes.ts [n] [--accounts N] [--channels N]`):
 * managed-event upserts called in-process through the core, 16 at a time as scenario 5's
 * connections send them, sharing commits through the same group commit as the server; no
 * HTTP and no delivery. Reports CPU per upsert (every thread, the checkpoint thread too): the
 * store's and core's cost apart from the HTTP layer's, steadier than end-to-end rates on a
 * shared machine. Compare versions by alternating runs and taking medians.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { benchCore, createWatchedAccounts, openBenchStore } from './setup.ts';
import { openStore } from '../src/store/store.ts';
import { groupCommit } from '../src/store/write-batcher.ts';
import { upsertManagedEvent } from '../src/core/events.ts';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    accounts: { type: 'string', default: '100' },
    channels: { type: 'string', default: '2' },
  },
});
const n = Number(positionals[0] ?? 10_000);
const accounts = Number(values.accounts);
const channels = Number(values.channels);
const CALLERS = 16;

const dir = mkdtempSync(join(tmpdir(), 'calpush-writes-'));
try {
  const b = await openBenchStore(dir);
  const targets = await createWatchedAccounts(b, {
    accounts,
    channelsPerAccount: channels,
    tag: 'w',
    callbackUrl: (i, c) => `http://127.0.0.1:9/w-${i}x${c}`,
  });
  await b.store.close();

  const store = await openStore({ dataDir: dir });
  const core = await benchCore(store, groupCommit(store.db), b.core.secrets);
  const fields = {
    summary: 'Bench event',
    description: 'Written by the benchmark',
    location: null,
    start: { dateTime: '2026-03-01T09:00:00Z', timeZone: 'Etc/UTC' },
    end: { dateTime: '2026-03-01T10:00:00Z', timeZone: 'Etc/UTC' },
  };
  let next = 0;
  const caller = async () => {
    for (let i = next++; i < n; i = next++) {
      const target = targets[i % targets.length];
      if (target) await upsertManagedEvent(core, target, `bench-${i}`, fields);
    }
  };
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await Promise.all(Array.from({ length: CALLERS }, caller));
  const wall = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  await store.close();
  console.log(
    `${n} upserts over ${accounts} accounts × ${channels} channels: ${wall.toFixed(0)} ms wall, ` +
      `${((cpu.user + cpu.system) / n).toFixed(1)} µs CPU each ` +
      `(user ${(cpu.user / n).toFixed(1)}, system ${(cpu.system / n).toFixed(1)}), ` +
      `${Math.round((n * 1000) / wall)}/s`,
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
