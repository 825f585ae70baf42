import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { createService } from '../src/service.ts';
import { loadConfig } from '../src/config/config.ts';
import { createLogger } from '../src/log.ts';
import { createTestAccount, startHarness, watchAccount } from './support/harness.ts';
import { createTestDatabase } from './support/postgres.ts';
import { Receiver } from './support/receiver.ts';
import { callApi } from './support/api.ts';

const run = promisify(execFile);
const bin = fileURLToPath(new URL('../bin/calpush.js', import.meta.url));
const dataDir = mkdtempSync(join(tmpdir(), 'calpush-copy-'));
after(() => rmSync(dataDir, { recursive: true, force: true }));

interface Events {
  items: { id: string; summary?: string; status?: string }[];
  nextSyncToken?: string;
}

async function copy(to: string): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [
      bin,
      'store',
      'copy',
      '--from',
      dataDir,
      '--to',
      to,
      '--json',
    ]);
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

test('an SQLite installation moves to PostgreSQL with nothing lost, and only when it may', async () => {
  const receiver = await Receiver.start();
  const database = await createTestDatabase();
  try {
    // An installation on SQLite: an account, events (a series with an exception among them),
    // a channel whose verification is still queued, a sync token held by a client.
    const config = loadConfig({ dataDir, dev: true, logLevel: 'silent', port: 0 }, {});
    const before = await createService(config, { logger: createLogger('silent') });
    const account = await createTestAccount(before);
    const events = `/calendar/v3/calendars/${account.calendarId}/events`;
    const series = await callApi<{ id: string }>(before, account.accessToken, 'POST', events, {
      summary: 'Stand-up',
      start: { dateTime: '2026-12-07T09:00:00', timeZone: 'Europe/Paris' },
      end: { dateTime: '2026-12-07T09:15:00', timeZone: 'Europe/Paris' },
      recurrence: ['RRULE:FREQ=DAILY;COUNT=5'],
    });
    await callApi(
      before,
      account.accessToken,
      'DELETE',
      `${events}/${series.json.id}_20261208T080000Z`,
    );
    const listed = await callApi<Events>(
      before,
      account.accessToken,
      'GET',
      `${events}?singleEvents=true`,
    );
    assert.equal(listed.json.items.length, 4);
    await watchAccount(before, account, `${receiver.url}/moved`);
    await before.stop();

    // Refused while a server runs on the directory (its pid file names a live process).
    writeFileSync(join(dataDir, 'calpush.pid'), `${process.pid}\n`);
    const live = await copy(database.url);
    assert.equal(live.code, 1);
    assert.match(live.stderr, /a server \(pid \d+\) is running/);
    rmSync(join(dataDir, 'calpush.pid'));

    const copied = await copy(database.url);
    assert.equal(copied.code, 0, copied.stderr);
    const report = JSON.parse(copied.stdout) as { rows: Record<string, number> };
    assert.equal(report.rows.events, 2);
    assert.equal(report.rows.accounts, 1);
    assert.equal(report.rows.notifications, 1);

    // A second copy into the same database is refused: it is no longer empty.
    const again = await copy(database.url);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /target store is not empty/);

    // The nodes on the copy are given the key the installation sealed its secrets under.
    const h = await startHarness({
      start: true,
      config: { databaseUrl: database.url },
      env: { CALPUSH_SECRET_KEY: readFileSync(join(dataDir, 'secret.key'), 'utf8').trim() },
    });
    try {
      const after = h.service;
      // The same token, the same instances, and the client's sync token still resumes.
      const read = await callApi<Events>(
        after,
        account.accessToken,
        'GET',
        `${events}?singleEvents=true`,
      );
      assert.deepEqual(read.json, listed.json);
      const sync = await callApi<Events>(
        after,
        account.accessToken,
        'GET',
        `${events}?singleEvents=true&syncToken=${encodeURIComponent(listed.json.nextSyncToken ?? '')}`,
      );
      assert.equal(sync.status, 200);
      assert.deepEqual(sync.json.items, []);
      // The queued verification goes out from the new store.
      await receiver.waitFor((r) => r.some((x) => x.path === '/moved'));
      // New rows take ids past the copied ones.
      const added = await callApi<{ id: string }>(after, account.accessToken, 'POST', events, {
        summary: 'After the move',
        start: { dateTime: '2026-12-09T12:00:00Z' },
        end: { dateTime: '2026-12-09T13:00:00Z' },
      });
      assert.equal(added.status, 200);
      const changed = await callApi<Events>(
        after,
        account.accessToken,
        'GET',
        `${events}?syncToken=${encodeURIComponent(listed.json.nextSyncToken ?? '')}`,
      );
      assert.deepEqual(
        changed.json.items.map((e) => e.summary),
        ['After the move'],
      );
    } finally {
      await h.close();
    }
  } finally {
    await receiver.close();
    await database.drop();
  }
});
