import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Service } from '../src/service.ts';
import type { SecretBox } from '../src/core/secret-box.ts';
import { createService } from '../src/service.ts';
import { loadConfig } from '../src/config/config.ts';
import { createLogger } from '../src/log.ts';
import { ManualClock } from '../src/domain/clock.ts';
import { createTestAccount } from './support/harness.ts';
import { createGoogleChannel } from '../src/faces/google/watch.ts';
import { rotateClientSecret } from '../src/core/clients.ts';
import { createSecretBox, keyId } from '../src/core/secret-box.ts';
import {
  NEXT_KEY_FILE,
  SECRET_KEY_FILE,
  loadSecretKeys,
  promoteNextKey,
  stageNextKey,
} from '../src/core/secret-keys.ts';
import { resealSecrets } from '../src/core/key-rotation.ts';
import { openStore } from '../src/store/store.ts';
import { TOKEN_KEY } from '../src/core/token-sealer.ts';

const clock = new ManualClock(Date.UTC(2026, 11, 6, 9, 0, 0));

function open(dataDir: string): Promise<Service> {
  return createService(loadConfig({ dev: true, dataDir, logLevel: 'silent', port: 0 }, {}), {
    clock,
    logger: createLogger('silent'),
  });
}

/** Every sealed value in the store, as the store holds it. */
async function sealedValues(service: Service): Promise<string[]> {
  const db = service.store.db;
  return [
    ...(await db.selectFrom('client_secrets').select('sealed_secret').execute()).map(
      (r) => r.sealed_secret,
    ),
    ...(await db.selectFrom('channels').select('sealed_token').execute()).flatMap((r) =>
      r.sealed_token === null ? [] : [r.sealed_token],
    ),
    ...(await db.selectFrom('sources').select('sealed_password').execute()).flatMap((r) =>
      r.sealed_password === null ? [] : [r.sealed_password],
    ),
    (
      await db
        .selectFrom('meta')
        .select('value')
        .where('key', '=', TOKEN_KEY)
        .executeTakeFirstOrThrow()
    ).value,
  ];
}

/** The keys the sealed values are under; opening each proves a fresh server reads it. */
async function readableUnder(dataDir: string, clear: readonly string[]): Promise<Set<string>> {
  const service = await open(dataDir);
  try {
    const box = service.core.secrets;
    const values = await sealedValues(service);
    const opened = values.map((v) => box.open(v));
    for (const c of clear) assert.ok(opened.includes(c), `${c} reads back`);
    return new Set(values.map((v) => box.keyIdOf(v) ?? 'clear'));
  } finally {
    await service.stop();
  }
}

const keyFileId = (dataDir: string) =>
  keyId(Buffer.from(readFileSync(join(dataDir, SECRET_KEY_FILE), 'utf8').trim(), 'base64'));

/** A box that fails after sealing `n` values: a crash in the middle of the transaction. */
function failingAfter(box: SecretBox, n: number): SecretBox {
  let sealed = 0;
  return {
    ...box,
    seal(plain) {
      if (++sealed > n) throw new Error('crash');
      return box.seal(plain);
    },
  };
}

test('a key file rotation leaves every secret readable at every point a crash could stop it', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'calpush-rotate-'));
  try {
    const first = await open(dataDir);
    const account = await createTestAccount(first);
    await createGoogleChannel(first.core, {
      accountId: account.accountId,
      clientId: account.clientId,
      publicId: 'g-1',
      address: 'http://127.0.0.1:9/google',
      token: 'channel-token',
      requestedExpiry: null,
      resource: { kind: 'events', calendarId: account.calendarId },
      resourceId: 'res-1',
      resourceUri: 'http://127.0.0.1/x',
    });
    await first.store.db
      .insertInto('sources')
      .values({
        id: 'src_1',
        account_id: account.accountId,
        profile_id: account.profileId,
        provider: 'ics',
        name: 'feed',
        url: 'http://127.0.0.1:9/feed.ics',
        host: '127.0.0.1:9',
        username: 'ada',
        sealed_password: first.core.secrets.seal('source-password'),
        state: 'connected',
        poll_interval_ms: 60_000,
        next_poll_at: null,
        lease_until: null,
        failures: 0,
        cursor_json: null,
        last_polled_at: null,
        last_changed_at: null,
        last_error: null,
        synced_at: null,
        created_at: clock.now(),
      })
      .execute();
    await first.stop();
    const clear = [account.clientSecret, 'channel-token', 'source-password'];
    const oldId = keyFileId(dataDir);
    assert.deepEqual(await readableUnder(dataDir, clear), new Set([oldId]));

    // 1. The next key is staged: a server accepts it, nothing is sealed under it yet.
    const next = stageNextKey(dataDir);
    const newId = keyId(next);
    assert.deepEqual(await readableUnder(dataDir, clear), new Set([oldId]));

    // 2. The re-seal dies half way: its transaction leaves the store as it was.
    const ring = () => createSecretBox(loadSecretKeys(undefined, dataDir).keys.toReversed());
    const store = await openStore({ dataDir });
    try {
      await assert.rejects(resealSecrets(store.db, failingAfter(ring(), 2)), /crash/);
    } finally {
      await store.close();
    }
    assert.deepEqual(await readableUnder(dataDir, clear), new Set([oldId]));

    // 3. The re-seal commits, the key file is not yet replaced: both keys are on disk.
    const again = await openStore({ dataDir });
    try {
      const report = await resealSecrets(again.db, ring());
      assert.deepEqual(
        Object.values(report).map((c) => c.resealed),
        [1, 1, 1, 1],
      );
    } finally {
      await again.close();
    }
    assert.deepEqual(await readableUnder(dataDir, clear), new Set([newId]));

    // A server started meanwhile seals under the old key still (its key file says so)...
    const meanwhile = await open(dataDir);
    const added = await rotateClientSecret(meanwhile.core, account.clientId);
    await meanwhile.stop();
    clear.push(added.clientSecret);
    assert.deepEqual(await readableUnder(dataDir, clear), new Set([oldId, newId]));

    // 4. ...so the rotation, run again, takes up the staged key and seals that one too.
    assert.deepEqual(stageNextKey(dataDir), next);
    const last = await openStore({ dataDir });
    try {
      const report = await resealSecrets(last.db, ring());
      assert.equal(report.client_secrets.resealed, 1);
      assert.equal(report.client_secrets.total, 2);
    } finally {
      await last.close();
    }
    promoteNextKey(dataDir);
    assert.equal(keyFileId(dataDir), newId);
    assert.ok(!existsSync(join(dataDir, NEXT_KEY_FILE)));
    assert.deepEqual(await readableUnder(dataDir, clear), new Set([newId]));
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});

test('with the key lost, dropping what no key opens lets the server start, and each owner asks again', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'calpush-lost-'));
  try {
    const first = await open(dataDir);
    const account = await createTestAccount(first);
    const channel = await createGoogleChannel(first.core, {
      accountId: account.accountId,
      clientId: account.clientId,
      publicId: 'g-1',
      address: 'http://127.0.0.1:9/google',
      token: 'channel-token',
      requestedExpiry: null,
      resource: { kind: 'events', calendarId: account.calendarId },
      resourceId: 'res-1',
      resourceUri: 'http://127.0.0.1/x',
    });
    await first.store.db
      .insertInto('sources')
      .values({
        id: 'src_1',
        account_id: account.accountId,
        profile_id: account.profileId,
        provider: 'ics',
        name: 'feed',
        url: 'http://127.0.0.1:9/feed.ics',
        host: '127.0.0.1:9',
        username: 'ada',
        sealed_password: first.core.secrets.seal('source-password'),
        state: 'connected',
        poll_interval_ms: 60_000,
        next_poll_at: clock.now(),
        lease_until: null,
        failures: 0,
        cursor_json: null,
        last_polled_at: null,
        last_changed_at: null,
        last_error: null,
        synced_at: null,
        created_at: clock.now(),
      })
      .execute();
    await first.stop();
    rmSync(join(dataDir, SECRET_KEY_FILE));
    await assert.rejects(open(dataDir), /cannot read the store's secrets.*--drop-unreadable/);

    const box = createSecretBox(loadSecretKeys(undefined, dataDir).keys);
    const store = await openStore({ dataDir });
    try {
      const report = await resealSecrets(store.db, box, { unreadable: 'drop', now: clock.now() });
      assert.deepEqual(
        Object.values(report).map((c) => c.unreadable),
        [1, 1, 1, 1],
      );
    } finally {
      await store.close();
    }
    const after = await open(dataDir);
    try {
      const db = after.store.db;
      assert.deepEqual(await db.selectFrom('client_secrets').selectAll().execute(), []);
      assert.deepEqual(
        await db
          .selectFrom('channels')
          .select(['state', 'closed_reason', 'sealed_token'])
          .where('id', '=', channel.id)
          .executeTakeFirstOrThrow(),
        { state: 'closed', closed_reason: 'token_unreadable', sealed_token: null },
      );
      const source = await db
        .selectFrom('sources')
        .select(['state', 'sealed_password', 'next_poll_at'])
        .executeTakeFirstOrThrow();
      assert.deepEqual(source, {
        state: 'disconnected',
        sealed_password: null,
        next_poll_at: null,
      });
      // The client gets a secret again the usual way.
      const fresh = await rotateClientSecret(after.core, account.clientId);
      assert.match(fresh.clientSecret, /^sec_/);
    } finally {
      await after.stop();
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});
