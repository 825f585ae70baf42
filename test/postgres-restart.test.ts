import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as delay } from 'node:timers/promises';
import type { ChildServer } from './support/child-server.ts';
import {
  CHANNELS,
  assertClean,
  queuedBefore,
  report,
  settle,
  until,
  withBacklog,
} from './support/fault-scenario.ts';
import { PrivatePostgres, privatePostgresUnavailable } from './support/private-postgres.ts';

/*
 * PostgreSQL itself restarted under three nodes with a backlog: a PostgreSQL cluster of the
 * test's own (the machine's shared server must not be restarted while other tests use it),
 * stopped for a few seconds, then started again. The nodes must say they are not ready while
 * it is down, and carry on by themselves once it answers.
 */

const DOWN_MS = 3_000;
const unavailable = privatePostgresUnavailable();

async function readiness(node: ChildServer): Promise<number> {
  try {
    return (await fetch(`${node.url}/readyz`, { signal: AbortSignal.timeout(5_000) })).status;
  } catch {
    return 0;
  }
}

describe('PostgreSQL restarted under load', { skip: unavailable ?? false }, () => {
  let server: PrivatePostgres;
  before(async () => {
    server = await PrivatePostgres.create();
  });
  after(async () => {
    await server.destroy();
  });

  for (const mode of ['fast', 'immediate'] as const) {
    test(`stopped (${mode}) for ${DOWN_MS / 1000} s: not ready meanwhile, then nothing lost, nothing out of order`, async (t) => {
      await withBacklog(
        async (s) => {
          // Stopped with a backlog queued and requests on the wire, whose answers come while
          // the server is away.
          await until(
            'a backlog with requests on the wire',
            async () =>
              (await s.cluster.queued()) >= CHANNELS / 3 &&
              [...s.receiver.unanswered].some((r) => r.path.startsWith('/n/')),
            20_000,
          );
          const leased = await s.cluster.sql.query<{ n: string }>(
            'select count(*) as n from channels where lease_until is not null',
          );
          const inFlightAtStop = [...s.receiver.unanswered].filter((r) =>
            r.path.startsWith('/n/'),
          ).length;
          const fault = { seq: s.receiver.requests.length, at: Date.now() };
          await server.stop(mode);
          const stoppedAt = Date.now();
          // Every node notices: its readiness check fails while the server is away.
          const noticedMs = await Promise.all(
            s.cluster.nodes.map(async (node) => {
              await until('not ready', async () => (await readiness(node)) !== 200, DOWN_MS);
              return Date.now() - stoppedAt;
            }),
          );
          await delay(stoppedAt + DOWN_MS - Date.now());
          const leasedAtFault = Number(leased.rows[0]?.n ?? 0);
          await server.start();
          const startedAt = Date.now();
          const readyAfterMs = await Promise.all(
            s.cluster.nodes.map(async (node) => {
              await until('ready again', async () => (await readiness(node)) === 200, 30_000);
              return Date.now() - startedAt;
            }),
          );
          await s.cluster.reconnect();
          await until(
            'everything queued before the restart is delivered',
            async () => (await queuedBefore(s.cluster, fault.at)) === 0,
            30_000,
          );
          const drainedAfterMs = Date.now() - startedAt;
          const writes = s.load.since(fault.at);
          const result = await settle(s, fault);
          const statuses: Record<number, number> = {};
          for (const w of writes) statuses[w.status] = (statuses[w.status] ?? 0) + 1;
          report(t, s, result, {
            mode,
            downMs: startedAt - stoppedAt,
            notReadyAfterMs: noticedMs,
            readyAfterStartMs: readyAfterMs,
            backlogDrainedAfterStartMs: drainedAfterMs,
            leasedAtFault,
            inFlightAtStop,
            statuses,
          });
          assertClean(result);
          assert.ok(inFlightAtStop > 0, 'requests were on the wire at the stop');
          // Sent twice only what was on the wire or answered but not yet recorded.
          assert.ok(
            result.duplicates <= leasedAtFault,
            `${result.duplicates} duplicates, ${leasedAtFault} leased at the fault`,
          );
          // Writes meet the outage as "try again" (503) or an unanswered request, never a 500.
          assert.deepEqual(
            writes
              .filter((w) => w.status !== 202 && w.status !== 503 && w.status !== 0)
              .map((w) => `${w.status} ${w.body}`),
            [],
          );
        },
        { adminUrl: server.adminUrl },
      );
    });
  }
});
