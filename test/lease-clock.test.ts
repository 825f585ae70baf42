import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Harness } from './support/harness.ts';
import { createTestAccount, startHarness, watchAccount } from './support/harness.ts';
import type { TestDatabase } from './support/postgres.ts';
import { createTestDatabase } from './support/postgres.ts';
import { Receiver, notificationType } from './support/receiver.ts';
import { touchEvent } from './support/events.ts';
import type { Clock } from '../src/domain/clock.ts';
import { monotonicNow } from '../src/domain/clock.ts';
import type { LeaseClock } from '../src/store/lease-time.ts';
import { claimDue } from '../src/store/queue/claim.ts';
import { sendRoom } from '../src/delivery/send-room.ts';

/*
 * Nodes over one PostgreSQL whose wall clocks disagree by minutes. Leases are stamped and
 * judged by the database's clock, and each node fences its sends on its own clock's readings
 * from before its claim: neither can make a node take a live lease or send under a lost one.
 */

const MINUTES = 60_000;
/** A wall clock `ms` off the machine's, with no steady clock of its own: the skew is all. */
const skewed = (ms: number): Clock => ({ now: () => Date.now() + ms });
const trueClock = skewed(0);
const ahead = skewed(5 * MINUTES);
const behind = skewed(-5 * MINUTES);

function claim(h: Harness, clock: Clock, leaseMs: number, leaseClock?: LeaseClock) {
  return claimDue(h.service.store.db, {
    now: () => clock.now(),
    steadyNow: () => monotonicNow(clock),
    limit: 10,
    leaseMs,
    excludeOrigins: [],
    lockRows: true,
    ...(leaseClock ? { leaseClock } : {}),
  });
}

/** Two nodes of a fresh database, not delivering by themselves: the test claims for them. */
async function twoNodes(database: TestDatabase, clocks: readonly [Clock, Clock]) {
  const env = { CALPUSH_SECRET_KEY: randomBytes(32).toString('base64') };
  const config = { databaseUrl: database.url };
  const [a, b] = await Promise.all(clocks.map((clock) => startHarness({ config, env, clock })));
  return [a!, b!] as const;
}

describe('leases on one PostgreSQL, nodes whose clocks are minutes apart', () => {
  let database: TestDatabase;
  let nodes: readonly Harness[] = [];
  before(async () => {
    database = await createTestDatabase();
  });
  after(async () => {
    for (const node of nodes) await node.close();
    await database.drop();
  });

  /** One channel with its verification queued, on a database of its own. */
  async function oneChannel(clocks: readonly [Clock, Clock]) {
    for (const node of nodes) await node.close();
    await database.drop();
    database = await createTestDatabase();
    const [a, b] = await twoNodes(database, clocks);
    nodes = [a, b];
    const account = await createTestAccount(a.service);
    await watchAccount(a.service, account, 'http://127.0.0.1:9/hook');
    return [a, b] as const;
  }

  test('a node whose clock is ahead does not take a lease still held', async () => {
    const [a, b] = await oneChannel([trueClock, ahead]);
    const [held] = await claim(a, trueClock, 60_000);
    assert.ok(held);
    // Stamped from the database's clock (the machine's here), not the claimer's.
    assert.ok(Math.abs(held.leaseUntil - (Date.now() + 60_000)) < 5_000, String(held.leaseUntil));
    // By b's clock the lease ended four minutes ago; by the database's it holds.
    assert.deepEqual(await claim(b, ahead, 60_000), []);
    // What stamping from the nodes' clocks would do: b takes it over while a sends.
    const [stolen] = await claim(b, ahead, 60_000, 'node');
    assert.equal(stolen?.notificationId, held.notificationId);
  });

  test('a node whose clock is behind stops sending before its lease can be taken over', async () => {
    const leaseMs = 1_500;
    const [a, b] = await oneChannel([behind, trueClock]);
    const [mine] = await claim(a, behind, leaseMs);
    assert.ok(mine);
    assert.ok(
      Math.abs(mine.leaseUntil - (Date.now() + leaseMs)) < 5_000,
      'the database stamped it',
    );
    assert.ok(sendRoom(mine, behind, 0) > 0, 'a may send at first');
    assert.deepEqual(await claim(b, trueClock, leaseMs), [], 'the lease holds for b too');
    // Real time passes (the database's clock is not the test's to move) until b may take over.
    let taken: Awaited<ReturnType<typeof claim>> = [];
    const giveUp = Date.now() + 10_000;
    while (taken.length === 0 && Date.now() < giveUp) {
      await sleep(100);
      taken = await claim(b, trueClock, leaseMs);
    }
    assert.equal(taken[0]?.notificationId, mine.notificationId, 'b took the lapsed lease over');
    assert.ok(sendRoom(mine, behind, 0) <= 0, 'a no longer sends under the lease it lost');
  });

  test('stamped from a clock behind, a lease would be taken over at once (what the database clock prevents)', async () => {
    const [a, b] = await oneChannel([behind, trueClock]);
    const [mine] = await claim(a, behind, 60_000, 'node');
    assert.ok(mine);
    assert.ok(sendRoom(mine, behind, 0) > 50_000, 'a believes it holds the lease a minute');
    const [stolen] = await claim(b, trueClock, 60_000, 'node');
    assert.equal(stolen?.notificationId, mine.notificationId);
  });
});

test('two delivering nodes, one clock 3 minutes ahead and one 3 behind: every notification once, in order', async () => {
  const database = await createTestDatabase();
  const receiver = await Receiver.start();
  receiver.reply = { status: 200, delayMs: 150 };
  const env = { CALPUSH_SECRET_KEY: randomBytes(32).toString('base64') };
  const config = { databaseUrl: database.url };
  const fast = skewed(3 * MINUTES);
  const slow = skewed(-3 * MINUTES);
  const nodeA = await startHarness({ config, env, clock: fast, start: true });
  const nodeB = await startHarness({ config, env, clock: slow, start: true });
  try {
    const recorded = { A: 0, B: 0 };
    nodeA.service.dispatcher.events.on('recorded', (batch) => (recorded.A += batch.length));
    nodeB.service.dispatcher.events.on('recorded', (batch) => (recorded.B += batch.length));
    // Written through the node that is behind, so every notification is due for both.
    const account = await createTestAccount(nodeB.service);
    const channels = 40;
    for (let i = 0; i < channels; i++) {
      await watchAccount(nodeB.service, account, `${receiver.url}/n/${i}`);
    }
    await touchEvent(nodeB.service, account, 'skewed');
    await receiver.waitForCount(channels * 2, 30_000);
    // Longer than a send: anything sent twice would have arrived by now.
    await sleep(500);
    const ids = receiver.requests.map((r) => String(r.headers['calpush-notification-id']));
    assert.equal(ids.length, channels * 2);
    assert.equal(new Set(ids).size, ids.length, 'no notification was sent twice');
    const byPath = new Map<string, string[]>();
    for (const r of receiver.requests) {
      const type = notificationType(r);
      byPath.set(r.path, [...(byPath.get(r.path) ?? []), type]);
    }
    for (const types of byPath.values()) assert.deepEqual(types, ['verification', 'change']);
    assert.ok(
      recorded.A > 0 && recorded.B > 0,
      `both nodes delivered: ${JSON.stringify(recorded)}`,
    );
  } finally {
    await nodeA.close();
    await nodeB.close();
    await receiver.close();
    await database.drop();
  }
});
