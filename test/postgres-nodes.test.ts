import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Harness } from './support/harness.ts';
import { addAccount, createTestAccount, startHarness, watchAccount } from './support/harness.ts';
import type { TestDatabase } from './support/postgres.ts';
import { createTestDatabase } from './support/postgres.ts';
import { Receiver, notificationType } from './support/receiver.ts';
import { touchEvent } from './support/events.ts';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import type { PostgresQueueSignal } from '../src/store/postgres/queue-signal.ts';

let database: TestDatabase;
let receiver: Receiver;
let nodeA: Harness;
let nodeB: Harness;

before(async () => {
  database = await createTestDatabase();
  receiver = await Receiver.start();
  receiver.reply = { status: 200, delayMs: 5 };
  const config = { databaseUrl: database.url };
  // Nodes of one database share its secret key, as they must (docs/secrets.md).
  const env = { CALPUSH_SECRET_KEY: randomBytes(32).toString('base64') };
  nodeA = await startHarness({ start: true, config, env });
  nodeB = await startHarness({ start: true, config, env });
});
after(async () => {
  await nodeA.close();
  await nodeB.close();
  await receiver.close();
  await database.drop();
});

test('two nodes on one PostgreSQL database share the work without sending anything twice', async () => {
  const recorded = { A: 0, B: 0 };
  nodeA.service.dispatcher.events.on('recorded', (batch) => (recorded.A += batch.length));
  nodeB.service.dispatcher.events.on('recorded', (batch) => (recorded.B += batch.length));
  const owner = await createTestAccount(nodeA.service);
  const accounts = [owner, await addAccount(nodeB.service, owner.clientId, 'b@example.com')];
  const channels = 100;
  for (let i = 0; i < channels; i++) {
    const account = accounts[i % 2]!;
    const node = i % 2 === 0 ? nodeA : nodeB;
    await watchAccount(node.service, account, `${receiver.url}/n/${i}`);
  }
  for (const [i, account] of accounts.entries()) {
    const node = i === 0 ? nodeB : nodeA;
    await touchEvent(node.service, account, 'shared');
  }
  await receiver.waitForCount(channels * 2, 20_000);
  const ids = receiver.requests.map((r) => String(r.headers['calpush-notification-id']));
  assert.equal(new Set(ids).size, ids.length, 'no notification was sent twice');
  // Per channel: verification first, then the change.
  const byPath = new Map<string, string[]>();
  for (const r of receiver.requests) {
    const type = notificationType(r);
    byPath.set(r.path, [...(byPath.get(r.path) ?? []), type]);
  }
  assert.equal(byPath.size, channels);
  for (const types of byPath.values()) assert.deepEqual(types, ['verification', 'change']);
  await Promise.all([
    nodeA.service.dispatcher.runUntilIdle(),
    nodeB.service.dispatcher.runUntilIdle(),
  ]);
  const attempts = await nodeA.service.store.db.selectFrom('attempts').select('id').execute();
  assert.equal(attempts.length, channels * 2);
  // Both nodes did part of the work.
  assert.ok(recorded.A > 0 && recorded.B > 0, JSON.stringify(recorded));
  assert.equal(recorded.A + recorded.B, channels * 2);
});

test('a change committed on one node signals the others (LISTEN/NOTIFY), not only at their next look', async () => {
  const signal = nodeB.service.store.queueSignal;
  assert.ok(signal, 'PostgreSQL stores signal across nodes');
  const heard = new Promise<void>((resolve) => {
    const events = (signal as unknown as { events: NodeJS.EventEmitter }).events;
    events.once('signalled', () => resolve());
  });
  const account = await createTestAccount(nodeA.service);
  await watchAccount(nodeA.service, account, `${receiver.url}/signalled`);
  await heard;
  await receiver.waitFor((r) => r.some((x) => x.path === '/signalled'));
});

test('a node alone sends no signals; one that hears another node listen does', async () => {
  const lone = await createTestDatabase();
  const h = await startHarness({ start: true, config: { databaseUrl: lone.url } });
  const peer = new pg.Client({ connectionString: lone.url, application_name: 'calpush listener' });
  try {
    const signal = h.service.store.queueSignal as PostgresQueueSignal;
    const until = async (othersHeard: boolean) => {
      for (let tries = 0; signal.othersHeard !== othersHeard; tries++) {
        assert.ok(tries < 500, `othersHeard stayed ${String(signal.othersHeard)}`);
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    };
    let sent = 0;
    signal.events.on('sent', () => sent++);
    await until(false);
    const account = await createTestAccount(h.service);
    await watchAccount(h.service, account, `${receiver.url}/lone`);
    await touchEvent(h.service, account, 'alone');
    await h.service.dispatcher.runUntilIdle();
    assert.equal(sent, 0);

    // Another node's listener says hello as it connects; the node answers, then signals it.
    await peer.connect();
    await peer.query('listen calpush_queued');
    const signals: string[] = [];
    peer.on('notification', (m) => {
      if (m.payload !== 'hello:another-node') signals.push(m.payload ?? '');
    });
    const heard = async (count: number) => {
      for (let tries = 0; signals.length < count; tries++) {
        assert.ok(tries < 500, `${signals.length} signals heard, not ${count}`);
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    };
    await peer.query(`select pg_notify('calpush_queued', 'hello:another-node')`);
    await heard(1);
    await until(true);
    await touchEvent(h.service, account, 'shared');
    await heard(2);
    assert.equal(new Set(signals).size, 1, 'each signal names the node');
    assert.ok(sent >= 1);
  } finally {
    await peer.end().catch(() => undefined);
    await h.close();
    await lone.drop();
  }
});
