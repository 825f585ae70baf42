import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as delay } from 'node:timers/promises';
import type { ChildServer } from './support/child-server.ts';
import { receiptsOf } from './support/delivery-audit.ts';
import {
  LEASE_MS,
  assertClean,
  faultWhileSending,
  heldFromBefore,
  mark,
  queuedBefore,
  report,
  settle,
  until,
  withBacklog,
} from './support/fault-scenario.ts';
import { TcpProxy } from './support/tcp-proxy.ts';
import { localPortsOf } from './support/process-sockets.ts';

/*
 * One of three nodes cut off from PostgreSQL by the network (a black hole: nothing arrives,
 * nothing is refused or reset) for longer than a lease, then reconnected. A loopback proxy
 * stands between that node and the database; the others reach it directly.
 */

const target = new URL(
  process.env.CALPUSH_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres',
);
/** Statement bound of the nodes: a node gives up on an unanswered query 2 s after it. */
const STATEMENT_TIMEOUT_MS = 4_000;

async function readiness(node: ChildServer): Promise<number> {
  try {
    return (await fetch(`${node.url}/readyz`, { signal: AbortSignal.timeout(3_000) })).status;
  } catch {
    return 0;
  }
}

test('a node cut off from the database past its lease: the others take its channels over; healed, it sends nothing stale', async (t) => {
  const proxy = await TcpProxy.start({ host: target.hostname, port: Number(target.port || 5432) });
  try {
    await withBacklog(
      async (s) => {
        const cutNode = s.cluster.nodes[0]!;
        // One request on the wire is enough: this node reaches the database through the
        // test's own process (the proxy), which a loaded machine slows, so it claims less.
        const { signalledAt: cutAt, inFlight } = await faultWhileSending(
          s,
          cutNode,
          () => {
            proxy.cut();
            return Promise.resolve();
          },
          1,
        );
        const fault = await mark(s.receiver);
        const held = await heldFromBefore(s.cluster, cutAt);
        // While cut: the node says it is not ready, and its channels go to the others once
        // its leases run out, with writes still accepted by the others.
        await until(
          'the cut node is not ready',
          async () => (await readiness(cutNode)) !== 200,
          15_000,
        );
        const notReadyAfterMs = Date.now() - cutAt;
        await until(
          'everything queued before the cut is delivered by the others',
          async () => (await queuedBefore(s.cluster, fault.at)) === 0,
          LEASE_MS + 20_000,
        );
        const takenOverAfterMs = Date.now() - cutAt;
        await delay(Math.max(0, cutAt + LEASE_MS + 1_500 - Date.now()));
        const cutPorts = localPortsOf(cutNode.process.pid ?? 0);
        const healedAt = Date.now();
        const sentWhileCut = receiptsOf(s.receiver.requests, '/n/').filter(
          (r) => r.at > cutAt + 1_000 && r.at < healedAt,
        ).length;
        const writesWhileCut = s.load.records.filter(
          (w) => w.startedAt >= cutAt && w.startedAt < healedAt,
        );
        // Answered while still cut off: the node gives up on the database, it does not hang.
        const cutNodeAnswered = writesWhileCut.filter(
          (w) => w.node === 0 && w.startedAt + w.ms < healedAt,
        );
        proxy.heal();
        await until(
          'the cut node is ready again',
          async () => (await readiness(cutNode)) === 200,
          30_000,
        );
        const readyAfterHealMs = Date.now() - healedAt;
        // It takes work again: a request from its sockets after the heal.
        const since = s.receiver.requests.length;
        await until(
          'the healed node delivers again',
          () => {
            const ports = localPortsOf(cutNode.process.pid ?? 0);
            return Promise.resolve(
              s.receiver.requests
                .slice(since)
                .some((r) => ports.has(r.port) && r.path.startsWith('/n/')),
            );
          },
          20_000,
        );
        const result = await settle(s, fault);
        const otherNodes = writesWhileCut.filter((w) => w.node !== 0);
        report(t, s, result, {
          inFlightOnCutNode: inFlight,
          heldByCutNode: held,
          notReadyAfterMs,
          takenOverAfterMs,
          readyAfterHealMs,
          deliveredWhileCut: sentWhileCut,
          writesToOthersWhileCut: otherNodes.length,
          cutNodeWriteStatuses: writesWhileCut.filter((w) => w.node === 0).map((w) => w.status),
          cutNodePortsAtHeal: cutPorts.size,
        });
        // Nothing lost: what the cut node had on the wire and could not record is delivered
        // again by the others. Not "at least one duplicate per request on the wire": one
        // answered as the cut was made may have its outcome recorded just before it (its
        // node's delivery connections do not queue behind writes), and is then not sent again.
        assertClean(result);
        // Sent again: nothing the cut node did not hold. A send of the cut node after healing,
        // of something the others had delivered, would be a duplicate after the fault
        // (unexpected, above).
        assert.ok(result.duplicates <= held, `${result.duplicates} duplicates, ${held} held`);
        assert.ok(sentWhileCut > 0, 'the others delivered while the node was cut off');
        assert.ok(cutNodeAnswered.length > 0, 'the cut node answered writes while cut off');
        assert.deepEqual(
          cutNodeAnswered.filter((w) => w.status !== 503).map((w) => `${w.status} ${w.body}`),
          [],
          'the cut node answers 503, never 500',
        );
        assert.deepEqual(
          otherNodes.filter((w) => w.status !== 202).map((w) => `${w.status} ${w.body}`),
          [],
          'writes to the other nodes while one was cut off',
        );
      },
      {
        nodeDatabaseUrl: (index, url) => (index === 0 ? proxy.via(url) : url),
        env: {
          CALPUSH_PG_STATEMENT_TIMEOUT_MS: String(STATEMENT_TIMEOUT_MS),
          CALPUSH_PG_ACQUIRE_TIMEOUT_MS: '3000',
        },
      },
    );
  } finally {
    await proxy.close();
  }
});
