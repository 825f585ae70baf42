import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { Receiver } from './support/receiver.ts';
import { loadConfig } from '../src/config/config.ts';
import { createService } from '../src/service.ts';
import { createLogger } from '../src/log.ts';
import { createCronofyChannel } from '../src/faces/cronofy/channels.ts';
import { keyId } from '../src/core/secret-box.ts';

const run = promisify(execFile);
const bin = fileURLToPath(new URL('../bin/calpush.js', import.meta.url));
const root = mkdtempSync(join(tmpdir(), 'calpush-cli-secrets-'));
let receiver: Receiver;
before(async () => {
  receiver = await Receiver.start();
});
after(async () => {
  await receiver.close();
  rmSync(root, { recursive: true, force: true });
});

type Json = Record<string, unknown> & Record<'client_id' | 'client_secret' | 'account_id', string>;

function cli(dataDir: string, env: NodeJS.ProcessEnv = {}) {
  return async (...args: string[]): Promise<Json> => {
    const { stdout } = await run(process.execPath, [bin, ...args, '--data', dataDir, '--json'], {
      env: { ...process.env, CALPUSH_SECRET_KEY: '', ...env },
    });
    return JSON.parse(stdout) as Json;
  };
}

function failure(dataDir: string, env: NodeJS.ProcessEnv, ...args: string[]) {
  return run(process.execPath, [bin, ...args, '--data', dataDir], {
    env: { ...process.env, CALPUSH_SECRET_KEY: '', ...env },
  }).then(
    () => assert.fail('expected the command to fail'),
    (err: { code: number; stderr: string }) => err,
  );
}

test('accounts: a token is issued and revoked from a file; then every token', async () => {
  const dataDir = join(root, 'tokens');
  const calpush = cli(dataDir);
  const client = await calpush('clients', 'create', '--name', 'Acme');
  const account = await calpush(
    'accounts',
    'create',
    '--client-id',
    client.client_id,
    '--email',
    'a@example.com',
  );
  const issued = await calpush('accounts', 'issue-token', '--account-id', account.account_id);
  assert.match(String(issued.access_token), /^tok_/);
  const tokenFile = join(root, 'token');
  writeFileSync(tokenFile, `${String(account.access_token)}\n`, { mode: 0o600 });
  assert.deepEqual(await calpush('accounts', 'revoke-token', '--token-file', tokenFile), {
    revoked: 1,
    remaining: 1,
    closed_channels: 0,
    noticed_channels: 0,
  });
  assert.deepEqual(await calpush('accounts', 'revoke-token', '--account-id', account.account_id), {
    revoked: 1,
    remaining: 0,
    closed_channels: 0,
    noticed_channels: 0,
  });
  const usage = await failure(dataDir, {}, 'accounts', 'revoke-token');
  assert.equal(usage.code, 2);
  assert.match(usage.stderr, /exactly one of --token-file/);
});

test('accounts delete: the CLI delivers gdpr_requested, then erases the account', async () => {
  const dataDir = join(root, 'delete');
  const calpush = cli(dataDir);
  const client = await calpush('clients', 'create', '--name', 'Acme');
  const account = await calpush(
    'accounts',
    'create',
    '--client-id',
    client.client_id,
    '--email',
    'gone@example.com',
  );
  // A channel, made as the API makes one: the CLI has no command for it.
  const service = await createService(
    loadConfig({ dev: true, dataDir, logLevel: 'silent', port: 0 }, {}),
    { logger: createLogger('silent') },
  );
  await createCronofyChannel(service.core, {
    accountId: account.account_id,
    clientId: client.client_id,
    callbackUrl: `${receiver.url}/gone`,
    calendarIds: null,
    onlyManaged: false,
  });
  await service.stop();

  const erased = await calpush('accounts', 'delete', '--account-id', account.account_id, '--dev');
  assert.equal(erased.undelivered, 0);
  assert.equal((erased.rows as Record<string, number>).accounts, 1);
  assert.deepEqual(receiver.notificationTypes('/gone'), ['verification', 'gdpr_requested']);
  const again = await failure(
    dataDir,
    {},
    'accounts',
    'delete',
    '--account-id',
    account.account_id,
  );
  assert.equal(again.code, 1);
  assert.match(again.stderr, /no account/);
});

test('keys rotate with the key file: a new key replaces it and every secret still reads', async () => {
  const dataDir = join(root, 'file-key');
  const calpush = cli(dataDir);
  const client = await calpush('clients', 'create', '--name', 'Acme');
  const keyFile = join(dataDir, 'secret.key');
  const before = readFileSync(keyFile, 'utf8');
  const rotated = await calpush('keys', 'rotate');
  const after = readFileSync(keyFile, 'utf8');
  assert.notEqual(after, before);
  assert.equal(rotated.key_id, keyId(Buffer.from(after.trim(), 'base64')));
  assert.deepEqual(rotated.sealed, {
    client_secrets: { total: 1, resealed: 1, unreadable: 0 },
    channel_tokens: { total: 0, resealed: 0, unreadable: 0 },
    source_passwords: { total: 0, resealed: 0, unreadable: 0 },
    token_key: { total: 1, resealed: 1, unreadable: 0 },
  });
  assert.ok(!existsSync(join(dataDir, 'secret.key.next')));
  // The first secret is found by its value, which takes opening it under the new key.
  await calpush('clients', 'rotate-secret', '--client-id', client.client_id);
  assert.deepEqual(
    await calpush(
      'clients',
      'revoke-secret',
      '--client-id',
      client.client_id,
      '--secret',
      client.client_secret,
    ),
    { revoked: 1, remaining: 1 },
  );
  // Not while a server runs on the directory: it would go on sealing under the old key.
  writeFileSync(join(dataDir, 'calpush.pid'), `${process.pid}\n`);
  const refused = await failure(dataDir, {}, 'keys', 'rotate');
  rmSync(join(dataDir, 'calpush.pid'));
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /is running on .*stop it before rotating/);
});

test('keys rotate with CALPUSH_SECRET_KEY: sealed again under the first key given', async () => {
  const dataDir = join(root, 'configured-key');
  const oldKey = randomBytes(32).toString('base64');
  const newKey = randomBytes(32).toString('base64');
  const client = await cli(dataDir, { CALPUSH_SECRET_KEY: oldKey })(
    'clients',
    'create',
    '--name',
    'A',
  );
  const rotated = await cli(dataDir, { CALPUSH_SECRET_KEY: `${newKey},${oldKey}` })(
    'keys',
    'rotate',
  );
  assert.equal(rotated.key_id, keyId(Buffer.from(newKey, 'base64')));
  const sealed = rotated.sealed as Record<string, { resealed: number } | undefined>;
  assert.equal(sealed.client_secrets?.resealed, 1);
  assert.ok(!existsSync(join(dataDir, 'secret.key')));
  // The old key alone reads nothing any more; the new one alone reads everything.
  const stale = await failure(
    dataDir,
    { CALPUSH_SECRET_KEY: oldKey },
    'clients',
    'create',
    '--name',
    'B',
  );
  assert.equal(stale.code, 1);
  assert.match(stale.stderr, /cannot read the store's secrets/);
  const fresh = cli(dataDir, { CALPUSH_SECRET_KEY: newKey });
  await fresh('clients', 'rotate-secret', '--client-id', client.client_id);
  assert.deepEqual(
    await fresh(
      'clients',
      'revoke-secret',
      '--client-id',
      client.client_id,
      '--secret',
      client.client_secret,
    ),
    { revoked: 1, remaining: 1 },
  );
});

test('keys rotate --drop-unreadable: with the key file lost, the store is usable again', async () => {
  const dataDir = join(root, 'lost-key');
  const calpush = cli(dataDir);
  await calpush('clients', 'create', '--name', 'Acme');
  rmSync(join(dataDir, 'secret.key'));
  const refused = await failure(dataDir, {}, 'clients', 'create', '--name', 'B');
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /--drop-unreadable/);
  // Not without asking: the key may only be misplaced. Nothing is staged meanwhile.
  const kept = await failure(dataDir, {}, 'keys', 'rotate');
  assert.equal(kept.code, 1);
  assert.ok(!existsSync(join(dataDir, 'secret.key.next')));
  const dropped = await calpush('keys', 'rotate', '--drop-unreadable');
  const sealed = dropped.sealed as Record<string, { unreadable: number } | undefined>;
  assert.equal(sealed.client_secrets?.unreadable, 1);
  assert.equal(sealed.token_key?.unreadable, 1);
  const again = await calpush('clients', 'create', '--name', 'B');
  assert.match(again.client_secret, /^sec_/);
});
