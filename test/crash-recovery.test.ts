import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { Receiver } from './support/receiver.ts';
import { ChildServer } from './support/child-server.ts';
import { loadConfig } from '../src/config/config.ts';
import { createService } from '../src/service.ts';
import { createLogger } from '../src/log.ts';
import { createClient } from '../src/core/clients.ts';
import { createAccount } from '../src/core/accounts.ts';

let dataDir: string;
let receiver: Receiver;

before(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'calpush-crash-'));
  receiver = await Receiver.start();
});
after(async () => {
  await receiver.close();
  rmSync(dataDir, { recursive: true, force: true });
});

interface Committed {
  readonly id: number;
  readonly path: string;
  readonly kind: string;
  readonly changesSince: number | null;
}

function committedNotifications(): Committed[] {
  const db = new DatabaseSync(join(dataDir, 'calpush.sqlite'), { readOnly: true });
  try {
    const rows = db
      .prepare(
        `select n.id, n.kind, n.changes_since, c.callback_url from notifications n
         join channels c on c.id = n.channel_id where n.state != 'cancelled'`,
      )
      .all();
    return rows.map((r) => ({
      id: Number(r.id),
      path: new URL(String(r.callback_url)).pathname,
      kind: String(r.kind),
      changesSince: r.changes_since === null ? null : Number(r.changes_since),
    }));
  } finally {
    db.close();
  }
}

/**
 * Whether a committed notification reached the receiver: the very same one (by id), or, for
 * a change that was merged into an earlier one on restart, a change to the same channel whose
 * changes_since covers it.
 */
function delivered(n: Committed): boolean {
  const received = receiver.requests.filter((r) => r.path === n.path);
  if (received.some((r) => r.headers['calpush-notification-id'] === `ntf_${n.id}`)) return true;
  if (n.kind !== 'change' || n.changesSince === null) return false;
  const since = new Date(Math.floor(n.changesSince / 1000) * 1000).toISOString();
  return received.some((r) => {
    const body = JSON.parse(r.body) as { notification: { type: string; changes_since?: string } };
    const covered = body.notification.changes_since?.replace('Z', '.000Z');
    return body.notification.type === 'change' && covered !== undefined && covered <= since;
  });
}

/** An account (of a new client) written into a data directory by a service that then stops. */
async function seedAccount(dir: string, clientName: string, email: string) {
  const setup = await createService(loadConfig({ dataDir: dir, dev: true }, {}), {
    logger: createLogger('silent'),
  });
  const client = await createClient(setup.core, clientName);
  const account = await createAccount(setup.core, { clientId: client.clientId, email });
  await setup.stop();
  return { account };
}

test('every committed notification is delivered after a kill -9 mid-backlog', async () => {
  const { account } = await seedAccount(dataDir, 'crash test', 'c@example.com');

  // A slow receiver and a narrow pipe to it keep a backlog in the outbox.
  receiver.reply = { status: 200, delayMs: 40 };
  const env = { CALPUSH_MAX_IN_FLIGHT_PER_ORIGIN: '4', CALPUSH_RATE_LIMIT: '0' };
  const first = await ChildServer.start(dataDir, env);
  const auth = {
    authorization: `Bearer ${account.accessToken}`,
    'content-type': 'application/json',
  };
  for (let i = 0; i < 100; i++) {
    const res = await fetch(`${first.url}/v1/channels`, {
      method: 'POST',
      headers: auth,
      body: JSON.stringify({ callback_url: `${receiver.url}/c/${i}` }),
    });
    assert.equal(res.status, 200);
  }
  for (let i = 0; i < 5; i++) {
    const res = await fetch(`${first.url}/v1/calendars/${account.calendarId}/events`, {
      method: 'POST',
      headers: auth,
      body: JSON.stringify({
        event_id: `e${i}`,
        summary: `Event ${i}`,
        start: '2026-12-01T09:00:00Z',
        end: '2026-12-01T10:00:00Z',
      }),
    });
    assert.equal(res.status, 202);
  }
  await receiver.waitForCount(20);
  await first.kill('SIGKILL');
  const before = receiver.requests.length;
  const committed = committedNotifications();
  assert.ok(committed.length >= 200, `expected a backlog, found ${committed.length} rows`);
  assert.ok(before < committed.length, 'the kill must interrupt the backlog');

  const second = await ChildServer.start(dataDir, env);
  try {
    await receiver.waitFor(() => committed.every(delivered), 30_000);
  } finally {
    await second.kill('SIGTERM');
  }
  const db = new DatabaseSync(join(dataDir, 'calpush.sqlite'), { readOnly: true });
  const left = db
    .prepare(`select count(*) as n from notifications where state in ('pending', 'sending')`)
    .get();
  db.close();
  assert.equal(Number(left?.n), 0);
});

for (const thread of ['0', '1']) {
  test(`serve stops cleanly on SIGTERM once it has delivered (CALPUSH_SENDER_THREAD=${thread})`, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'calpush-term-'));
    try {
      const { account } = await seedAccount(dir, 'term test', 't@example.com');
      const server = await ChildServer.start(dir, {
        CALPUSH_RATE_LIMIT: '0',
        CALPUSH_SENDER_THREAD: thread,
      });
      const before = receiver.requests.length;
      const res = await fetch(`${server.url}/v1/channels`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${account.accessToken}`,
          'content-type': 'application/json',
        },
        body: JSON.stringify({ callback_url: `${receiver.url}/term` }),
      });
      assert.equal(res.status, 200);
      await receiver.waitForCount(before + 1);
      assert.equal((await server.kill('SIGTERM')).code, 0);
      // The last connection to close checkpoints and removes the write-ahead log.
      assert.equal(existsSync(join(dir, 'calpush.sqlite-wal')), false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}
