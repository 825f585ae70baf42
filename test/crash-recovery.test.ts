import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
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

function committedNotificationIds(): number[] {
  const db = new DatabaseSync(join(dataDir, 'calpush.sqlite'), { readOnly: true });
  try {
    const rows = db.prepare(`select id from notifications where state != 'cancelled'`).all();
    return rows.map((r) => Number(r.id));
  } finally {
    db.close();
  }
}

test('every committed notification is delivered after a kill -9 mid-backlog', async () => {
  const setup = await createService(loadConfig({ dataDir, dev: true }, {}), {
    logger: createLogger('silent'),
  });
  const client = await createClient(setup.core, 'crash test');
  const account = await createAccount(setup.core, {
    clientId: client.clientId,
    email: 'c@example.com',
  });
  await setup.stop();

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
  const committed = committedNotificationIds();
  assert.ok(committed.length >= 200, `expected a backlog, found ${committed.length} rows`);
  assert.ok(before < committed.length, 'the kill must interrupt the backlog');

  const second = await ChildServer.start(dataDir, env);
  try {
    const seen = () =>
      new Set(receiver.requests.map((r) => String(r.headers['calpush-notification-id'])));
    await receiver.waitFor(() => committed.every((id) => seen().has(`ntf_${id}`)), 30_000);
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
