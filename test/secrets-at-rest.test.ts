import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac, randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestAccount, startHarness, watchAccount } from './support/harness.ts';
import { Receiver } from './support/receiver.ts';
import { engines } from './support/postgres.ts';
import { callApi } from './support/api.ts';
import { ManualClock } from '../src/domain/clock.ts';
import { loadConfig } from '../src/config/config.ts';
import { createService } from '../src/service.ts';
import { createLogger } from '../src/log.ts';
import { COPIED_TABLES } from '../src/store/copy.ts';

let receiver: Receiver;
before(async () => {
  receiver = await Receiver.start();
});
after(() => receiver.close());

for (const engine of engines) {
  test(`client secrets, channel tokens and the token key are stored sealed, and still work, on ${engine}`, async () => {
    receiver.requests.length = 0;
    const clock = new ManualClock(Date.UTC(2026, 11, 6, 9, 0, 0));
    const h = await startHarness({ clock, engine });
    try {
      const account = await createTestAccount(h.service);
      await watchAccount(h.service, account, `${receiver.url}/cronofy-${engine}`);
      const token = `target=${randomBytes(8).toString('hex')}`;
      const watch = await callApi<{ token?: string }>(
        h.service,
        account.accessToken,
        'POST',
        '/calendar/v3/calendars/primary/events/watch',
        { id: 'g-1', type: 'web_hook', address: `${receiver.url}/google-${engine}`, token },
      );
      assert.equal(watch.status, 200);
      assert.equal(watch.json.token, token);
      const listed = await callApi<{ items: { token?: string }[] }>(
        h.service,
        account.accessToken,
        'GET',
        '/calendar/v3/channels',
      );
      assert.equal(listed.status, 200);
      assert.deepEqual(
        listed.json.items.map((c) => c.token),
        [token],
      );
      await h.service.dispatcher.runUntilIdle();

      // Delivered signed with the secret in clear, and echoing the token in clear.
      const cronofy = receiver.requests.find((r) => r.path === `/cronofy-${engine}`);
      const google = receiver.requests.find((r) => r.path === `/google-${engine}`);
      assert.ok(cronofy && google);
      assert.equal(
        cronofy.headers['cronofy-hmac-sha256'],
        createHmac('sha256', account.clientSecret).update(cronofy.body).digest('base64'),
      );
      assert.equal(google.headers['x-goog-channel-token'], token);

      // Nothing of them in any row of the store.
      const db = h.service.store.db;
      const tokenKey = await db
        .selectFrom('meta')
        .select('value')
        .where('key', '=', 'sealed_token_key')
        .executeTakeFirstOrThrow();
      const clearTokenKey = h.service.core.secrets.open(tokenKey.value);
      for (const table of COPIED_TABLES) {
        const rows = JSON.stringify(await db.selectFrom(table).selectAll().execute());
        assert.ok(!rows.includes(account.clientSecret), `client secret in clear in ${table}`);
        assert.ok(!rows.includes(token), `channel token in clear in ${table}`);
        assert.ok(!rows.includes(clearTokenKey), `token key in clear in ${table}`);
      }
      if (engine === 'sqlite') {
        // Nor anywhere in the database's files, the write-ahead log included.
        for (const file of readdirSync(h.dataDir).filter((f) => f.startsWith('calpush.sqlite'))) {
          const bytes = readFileSync(join(h.dataDir, file));
          assert.ok(!bytes.includes(account.clientSecret), `client secret in clear in ${file}`);
          assert.ok(!bytes.includes(token), `channel token in clear in ${file}`);
        }
      }
    } finally {
      await h.close();
    }
  });
}

const modeOf = (path: string) => statSync(path).mode & 0o777;

test('the data directory is made 0700 and its files 0600, whatever the umask', async () => {
  const parent = mkdtempSync(join(tmpdir(), 'calpush-modes-'));
  const dataDir = join(parent, 'data');
  const previous = process.umask(0o000);
  try {
    const h = await startHarness({ config: { dataDir } });
    try {
      await createTestAccount(h.service);
      assert.equal(modeOf(dataDir), 0o700);
      for (const file of [
        'calpush.sqlite',
        'calpush.sqlite-wal',
        'calpush.sqlite-shm',
        'secret.key',
      ]) {
        assert.equal(modeOf(join(dataDir, file)), 0o600, file);
      }
    } finally {
      await h.service.stop();
    }
    // As an earlier version left them: open to everyone. The next start narrows them.
    chmodSync(dataDir, 0o755);
    for (const file of readdirSync(dataDir)) chmodSync(join(dataDir, file), 0o644);
    const again = await startHarness({ config: { dataDir } });
    try {
      assert.equal(modeOf(dataDir), 0o700);
      for (const file of readdirSync(dataDir))
        assert.equal(modeOf(join(dataDir, file)), 0o600, file);
    } finally {
      await again.close();
    }
  } finally {
    process.umask(previous);
    rmSync(parent, { recursive: true, force: true });
  }
});

test('a server given another key than the store was sealed under refuses to start, saying why', async () => {
  const h = await startHarness();
  await h.service.stop();
  try {
    const config = loadConfig(
      { dev: true, dataDir: h.dataDir, logLevel: 'silent', port: 0 },
      { CALPUSH_SECRET_KEY: randomBytes(32).toString('base64') },
    );
    await assert.rejects(
      createService(config, { logger: createLogger('silent') }),
      /cannot read the store's secrets: sealed under key \S+, but this server's key is/,
    );
  } finally {
    rmSync(h.dataDir, { recursive: true, force: true });
  }
});
