import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { createTestAccount, startHarness } from './support/harness.ts';
import { createTestDatabase } from './support/postgres.ts';
import { ManualClock } from '../src/domain/clock.ts';
import { createService } from '../src/service.ts';
import { loadConfig } from '../src/config/config.ts';
import { createLogger } from '../src/log.ts';
import { leaseDueSources, renewSourceLease } from '../src/core/source-sync.ts';

test('two nodes on one PostgreSQL lease disjoint sources, and a lease held is not taken', async () => {
  const database = await createTestDatabase();
  const dataDir = mkdtempSync(join(tmpdir(), 'calpush-nodes-'));
  const clock = new ManualClock(Date.UTC(2026, 11, 6, 9, 0, 0));
  const secretKey = randomBytes(32).toString('base64');
  const node = () =>
    createService(
      loadConfig(
        { dev: true, dataDir, databaseUrl: database.url, logLevel: 'silent', port: 0 },
        { CALPUSH_SECRET_KEY: secretKey },
      ),
      { clock, logger: createLogger('silent') },
    );
  const [a, b] = [await node(), await node()];
  try {
    const account = await createTestAccount(a);
    const now = clock.now();
    // Sources written as connectSource leaves them, without asking a server.
    const ids = Array.from({ length: 40 }, (_, i) => `src_lease${i}`);
    await a.store.db
      .insertInto('sources')
      .values(
        ids.map((id) => ({
          id,
          account_id: account.accountId,
          profile_id: account.profileId,
          provider: 'ics',
          name: id,
          url: `http://127.0.0.1:9/${id}.ics`,
          host: '127.0.0.1:9',
          username: null,
          sealed_password: a.core.secrets.seal('pw'),
          state: 'connected',
          poll_interval_ms: 60_000,
          next_poll_at: now,
          lease_until: null,
          failures: 0,
          cursor_json: null,
          last_polled_at: null,
          last_changed_at: null,
          last_error: null,
          created_at: now,
        })),
      )
      .execute();
    const lease = (service: typeof a) =>
      leaseDueSources(service.core, { now, limit: 25, leaseMs: 60_000, lockRows: true });
    const [fromA, fromB] = await Promise.all([lease(a), lease(b)]);
    const taken = [...fromA, ...fromB].map((s) => s.id);
    assert.equal(new Set(taken).size, taken.length, 'no source leased twice');
    assert.deepEqual([...taken].sort(), [...ids].sort());
    // Credentials sealed on one node open on the other: the key is shared.
    assert.equal(fromB[0]?.credentials?.password ?? fromA[0]?.credentials?.password, 'pw');
    assert.deepEqual(await lease(a), [], 'leases still held are not taken again');
  } finally {
    await a.stop();
    await b.stop();
    await database.drop();
    rmSync(dataDir, { recursive: true, force: true });
  }
});

test('a lease leaves the sources of hosts already at their bound for a later look', async () => {
  const h = await startHarness();
  try {
    const account = await createTestAccount(h.service);
    const now = h.service.core.clock.now();
    const row = (id: string, host: string) => ({
      id,
      account_id: account.accountId,
      profile_id: account.profileId,
      provider: 'ics',
      name: id,
      url: `http://${host}/${id}.ics`,
      host,
      state: 'connected',
      poll_interval_ms: 60_000,
      next_poll_at: now,
      failures: 0,
      created_at: now,
    });
    await h.service.store.db
      .insertInto('sources')
      .values([
        row('src_busy1', '127.0.0.1:9001'),
        row('src_busy2', '127.0.0.1:9001'),
        row('src_free', '127.0.0.1:9002'),
      ])
      .execute();
    const leased = await leaseDueSources(h.service.core, {
      now,
      limit: 10,
      leaseMs: 60_000,
      lockRows: false,
      busyHosts: ['127.0.0.1:9001'],
    });
    assert.deepEqual(
      leased.map((s) => s.id),
      ['src_free'],
    );
  } finally {
    await h.close();
  }
});

test('a renewed lease is the one a poll records under; the old one no longer holds', async () => {
  const h = await startHarness();
  try {
    const account = await createTestAccount(h.service);
    const now = h.service.core.clock.now();
    await h.service.store.db
      .insertInto('sources')
      .values({
        id: 'src_long',
        account_id: account.accountId,
        profile_id: account.profileId,
        provider: 'ics',
        name: 'long',
        url: 'http://127.0.0.1:9/long.ics',
        host: '127.0.0.1:9',
        state: 'connected',
        poll_interval_ms: 60_000,
        next_poll_at: now,
        failures: 0,
        created_at: now,
      })
      .execute();
    const opts = { now, limit: 1, leaseMs: 60_000, lockRows: false };
    const [leased] = await leaseDueSources(h.service.core, opts);
    assert.ok(leased);
    const renewed = await renewSourceLease(h.service.core, leased, 120_000, now);
    assert.equal(renewed, now + 120_000);
    // Another look past the first lease's end finds the source still held.
    assert.deepEqual(await leaseDueSources(h.service.core, { ...opts, now: now + 90_000 }), []);
    assert.equal(await renewSourceLease(h.service.core, leased, 180_000, now), null);
  } finally {
    await h.close();
  }
});
