/**
 * Delivery-engine micro-benchmark (`node bench/engine.ts [n] [--http [--thread]] [--alloc]`): the
 * scenario 1 backlog drained in-process by the real dispatcher and store, with a sender that
 * answers 200 on the next turn of the event loop, or with --http the real HTTP client (in its
 * worker thread with --thread) sending to the bench's receiver in its own process. Reports
 * this process's CPU per notification, every thread counted, which is steadier than
 * end-to-end rates on a shared machine, and the main thread's alone: with the HTTP client
 * on it, that thread is what bounds scenario 1. --alloc also reports the bytes allocated
 * per notification.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Session } from 'node:inspector/promises';
import { insertAccounts, insertChannels, openBenchStore, recordChanges } from './setup.ts';
import { openStore } from '../src/store/store.ts';
import { Dispatcher } from '../src/delivery/dispatcher.ts';
import { systemClock } from '../src/domain/clock.ts';
import { createLogger } from '../src/log.ts';
import { defaultRetryPolicy } from '../src/domain/retry-policy.ts';
import { loadConfig } from '../src/config/config.ts';
import { deliveryDialects } from '../src/service.ts';
import { createHttpSender } from '../src/delivery/http-sender.ts';
import type { HttpSender } from '../src/delivery/http-sender.ts';
import { ThreadedHttpSender } from '../src/delivery/threaded-sender.ts';
import { ReceiverProcess } from './context.ts';
import { DeliverySecrets } from '../src/delivery/delivery-secrets.ts';

/**
 * V8's sampling heap profiler, keeping the samples of objects already collected: the bytes
 * allocated while it ran, however short-lived. Steadier than CPU time for comparing two
 * versions of the delivery path's allocations.
 */
async function startAllocationSampling(): Promise<{ stop(): Promise<number> }> {
  const session = new Session();
  session.connect();
  await session.post('HeapProfiler.startSampling', {
    samplingInterval: 8192,
    includeObjectsCollectedByMajorGC: true,
    includeObjectsCollectedByMinorGC: true,
  });
  return {
    async stop() {
      const { profile } = await session.post('HeapProfiler.stopSampling');
      session.disconnect();
      const total = (node: typeof profile.head): number =>
        node.selfSize + node.children.reduce((sum, child) => sum + total(child), 0);
      return total(profile.head);
    },
  };
}

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    http: { type: 'boolean', default: false },
    thread: { type: 'boolean', default: false },
    alloc: { type: 'boolean', default: false },
  },
});
const n = Number(positionals[0] ?? 50_000);
const dir = mkdtempSync(join(tmpdir(), 'calpush-engine-'));
let receiver: ReceiverProcess | undefined;
try {
  receiver = values.http ? await ReceiverProcess.start() : undefined;
  const b = await openBenchStore(dir);
  const accounts = await insertAccounts(b, n, 'e');
  const base = receiver?.okUrl ?? 'http://127.0.0.1:9';
  await insertChannels(
    b,
    accounts.map((accountId, i) => ({ accountId, callbackUrl: `${base}/ok/e-${i}` })),
    'e',
  );
  await recordChanges(b, accounts);
  await b.store.close();

  const store = await openStore({ dataDir: dir });
  const config = loadConfig({ dataDir: dir, dev: true }, {});
  const senderOptions = {
    dev: true,
    timeoutMs: config.delivery.timeoutMs,
    connectionsPerOrigin: config.delivery.maxInFlightPerOrigin,
  };
  const answerAtOnce: HttpSender = {
    send: () => new Promise((resolve) => setImmediate(() => resolve({ status: 200 }))),
    close: async () => {},
  };
  const sender: HttpSender = !receiver
    ? answerAtOnce
    : values.thread
      ? new ThreadedHttpSender(senderOptions)
      : createHttpSender(senderOptions);
  const dispatcher = new Dispatcher({
    db: store.db,
    clock: systemClock,
    logger: createLogger('silent'),
    sender,
    secrets: new DeliverySecrets(b.core.secrets),
    dialects: deliveryDialects(),
    policy: defaultRetryPolicy,
    limits: config.delivery,
    random: Math.random,
    releaseLeasesOnStart: true,
    lockClaimedRows: false,
  });
  let recorded = 0;
  let delivered = 0;
  const done = new Promise<void>((resolve) =>
    dispatcher.events.on('recorded', (batch) => {
      recorded += batch.length;
      delivered += batch.filter((c) => c.kind === 'delivered').length;
      if (recorded >= n) resolve();
    }),
  );
  try {
    const sampling = values.alloc ? await startAllocationSampling() : undefined;
    const cpu0 = process.cpuUsage();
    const main0 = process.threadCpuUsage();
    const t0 = performance.now();
    await dispatcher.start();
    await done;
    const wall = performance.now() - t0;
    const main = process.threadCpuUsage(main0);
    const cpu = process.cpuUsage(cpu0);
    const us = (cpu.user + cpu.system) / n;
    // A failed attempt is recorded too: the figures only mean something when all arrived.
    console.log(
      `${n} notifications (${delivered} delivered): ${wall.toFixed(0)} ms wall, ` +
        `${us.toFixed(1)} µs CPU each (system ${(cpu.system / n).toFixed(1)}), ` +
        `${Math.round((n * 1000) / wall)}/s; main thread ${((main.user + main.system) / n).toFixed(1)} µs`,
    );
    if (sampling) {
      const bytes = await sampling.stop();
      console.log(`allocated ~${(bytes / n / 1024).toFixed(1)} KiB per notification (sampled)`);
    }
  } finally {
    await dispatcher.stop();
    await sender.close();
    await store.close();
  }
} finally {
  receiver?.stop();
  rmSync(dir, { recursive: true, force: true });
}
