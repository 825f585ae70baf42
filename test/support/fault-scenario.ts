import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as delay } from 'node:timers/promises';
import { Receiver } from './receiver.ts';
import { Cluster } from './cluster.ts';
import type { ClusterOptions } from './cluster.ts';
import { WriteLoad } from './write-load.ts';
import type { ChildServer } from './child-server.ts';
import { localPortsOf } from './process-sockets.ts';
import type { Audit } from './delivery-audit.ts';
import { audit, receiptsOf, storedNotifications } from './delivery-audit.ts';

/*
 * What the fault tests on three real `calpush serve` processes share: the cluster with a
 * backlog under a steady stream of API writes and a slow receiver, and the counts of lost
 * notifications, duplicates, order violations and the time to recover.
 */

export const CHANNELS_PER_ACCOUNT = 50;
export const ACCOUNTS = 3;
export const CHANNELS = ACCOUNTS * CHANNELS_PER_ACCOUNT;
/** The shortest lease the rule allows (twice the 5 s send timeout plus a second). */
export const LEASE_MS = 11_000;
/**
 * How long PostgreSQL lets a stopped node sit in a transaction (production: 10 s): shorter
 * than the lock bound (5 s), so a write that waits on a stopped node's lock is let through
 * rather than given up.
 */
export const IDLE_TRANSACTION_MS = 2_000;
export const LOCK_TIMEOUT_MS = 5_000;
export const NODE_ENV = {
  CALPUSH_DELIVERY_LEASE_MS: String(LEASE_MS),
  CALPUSH_PG_IDLE_TX_TIMEOUT_MS: String(IDLE_TRANSACTION_MS),
  CALPUSH_PG_LOCK_TIMEOUT_MS: String(LOCK_TIMEOUT_MS),
};

export interface Scenario {
  readonly cluster: Cluster;
  readonly receiver: Receiver;
  readonly load: WriteLoad;
}

/** A receiver request after which anything the fault left in the kernel has been read. */
export async function mark(receiver: Receiver): Promise<{ seq: number; at: number }> {
  // Two probes in turn: by the time the second is answered, the receiver has read every
  // socket that was readable when the first was sent.
  for (const n of [1, 2]) await fetch(`${receiver.url}/probe/${n}`, { method: 'POST' });
  return { seq: receiver.requests.length, at: Date.now() };
}

/** Polls a condition (a database count, say) until it holds; fails after `timeoutMs`. */
export async function until(what: string, check: () => Promise<boolean>, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`not within ${timeoutMs} ms: ${what}`);
    await delay(50);
  }
}

/**
 * Faults a node while it has notifications on the wire: waits until the receiver holds
 * `minInFlight` requests of its sockets unanswered, then signals it on the same turn, before
 * the receiver can answer one of them. `signal` must send its signal before its first await
 * (as ChildServer's kill and pause do).
 */
export async function faultWhileSending(
  s: Scenario,
  node: ChildServer,
  signal: (node: ChildServer) => Promise<unknown>,
  minInFlight = 3,
): Promise<{ signalledAt: number; inFlight: number }> {
  const pid = node.process.pid ?? 0;
  const deadline = Date.now() + 30_000;
  for (;;) {
    const ports = localPortsOf(pid);
    const inFlight = [...s.receiver.unanswered].filter(
      (r) => ports.has(r.port) && r.path.startsWith('/n/'),
    ).length;
    if (inFlight >= minInFlight) {
      const signalledAt = Date.now();
      await signal(node);
      return { signalledAt, inFlight };
    }
    if (Date.now() > deadline) {
      throw new Error(`the node never had ${minInFlight} requests on the wire`);
    }
    await delay(10);
  }
}

/**
 * Channels still leased a second after a fault under leases taken before it: what the faulted
 * node held (claimed, on the wire, or answered but not recorded). A measurement, not a wait
 * for a state: the other nodes' claims from before the fault are answered in 100 ms and
 * recorded at once; one still open only makes the count, and so the bound on duplicates, a
 * little larger.
 */
export async function heldFromBefore(cluster: Cluster, signalledAt: number): Promise<number> {
  await delay(1_000);
  const { rows } = await cluster.sql.query<{ n: string }>(
    'select count(*) as n from channels where lease_until <= $1',
    [signalledAt + LEASE_MS],
  );
  return Number(rows[0]?.n ?? 0);
}

export async function queuedBefore(cluster: Cluster, at: number): Promise<number> {
  const { rows } = await cluster.sql.query<{ n: string }>(
    `select count(*) as n from notifications
      where state in ('pending', 'sending') and created_at < $1`,
    [at],
  );
  return Number(rows[0]?.n ?? 0);
}

/** Three nodes, every channel verified, writes flowing and a backlog queued. */
export async function withBacklog(
  run: (s: Scenario) => Promise<void>,
  options: Pick<ClusterOptions, 'adminUrl' | 'nodeDatabaseUrl'> & {
    readonly env?: NodeJS.ProcessEnv;
  } = {},
): Promise<void> {
  const receiver = await Receiver.start();
  receiver.reply = { status: 200, delayMs: 100 };
  let cluster: Cluster | undefined;
  let load: WriteLoad | undefined;
  try {
    cluster = await Cluster.start({
      nodes: 3,
      accounts: ACCOUNTS,
      channelsPerAccount: CHANNELS_PER_ACCOUNT,
      callbackBase: `${receiver.url}/n`,
      ...options,
      env: { ...NODE_ENV, ...options.env },
    });
    await receiver.waitFor((r) => receiptsOf(r, '/n/').length >= CHANNELS, 20_000);
    load = new WriteLoad(cluster, 100);
    const c = cluster;
    await until('a backlog forms', async () => (await c.queued()) >= CHANNELS / 3, 20_000);
    await run({ cluster, receiver, load });
  } finally {
    await load?.stop();
    await cluster?.close();
    await receiver.close();
  }
}

/** Stops the writes, waits for the outbox to drain, and counts. */
export async function settle(s: Scenario, fault: { seq: number; at: number }): Promise<Audit> {
  await s.load.stop();
  await until('the outbox drains', async () => (await s.cluster.queued()) === 0, 30_000);
  return audit(
    receiptsOf(s.receiver.requests, '/n/'),
    await storedNotifications(s.cluster.sql),
    fault,
  );
}

/** What the nodes logged at warn and above, by message. */
export function logged(cluster: Cluster): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const line of cluster.logs.flat()) {
    try {
      const { msg, level, err } = JSON.parse(line) as {
        msg?: string;
        level?: number;
        err?: { message?: string };
      };
      // Errors with what they were, warnings by message alone.
      const key = `${msg ?? '?'}${level !== undefined && level >= 50 ? `: ${err?.message}` : ''}`;
      counts[key] = (counts[key] ?? 0) + 1;
    } catch {
      // A line split across two reads of the pipe: the count is for reading, not asserting.
    }
  }
  return counts;
}

/** The counts, in the test's report (`npm test` shows them under the test). */
export function report(
  t: TestContext,
  s: Scenario,
  result: Audit,
  extra: Record<string, unknown> = {},
): void {
  const { lost, unexpectedDuplicates, ...counts } = result;
  t.diagnostic(
    `counts: ${JSON.stringify({
      ...counts,
      lost: lost.length,
      unexpectedDuplicates: unexpectedDuplicates.length,
      ...extra,
      logged: logged(s.cluster),
    })}`,
  );
}

export function assertClean(result: Audit): void {
  assert.deepEqual(result.lost, [], 'lost notifications');
  assert.deepEqual(result.unexpectedDuplicates, [], 'duplicates beyond those in flight');
  assert.equal(result.orderViolations, 0, 'order violations');
}
