import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { once } from 'node:events';
import { isOperatorToken } from '../src/core/admin-tokens.ts';
import { createLogger } from '../src/log.ts';
import { loadConfig } from '../src/config/config.ts';
import { createService } from '../src/service.ts';

const run = promisify(execFile);
const bin = fileURLToPath(new URL('../bin/calpush.js', import.meta.url));
const dataDir = mkdtempSync(join(tmpdir(), 'calpush-cli-'));
after(() => rmSync(dataDir, { recursive: true, force: true }));

async function calpush(...args: string[]): Promise<Record<string, string>> {
  const { stdout } = await run(process.execPath, [bin, ...args, '--data', dataDir, '--json']);
  return JSON.parse(stdout) as Record<string, string>;
}

test('clients and accounts are managed from the CLI with JSON output', async () => {
  const client = await calpush('clients', 'create', '--name', 'Acme');
  assert.match(client.client_id!, /^cli_/);
  assert.match(client.client_secret!, /^sec_/);

  const rotated = await calpush('clients', 'rotate-secret', '--client-id', client.client_id!);
  assert.notEqual(rotated.client_secret, client.client_secret);
  const revoked = await calpush('clients', 'revoke-secret', '--client-id', client.client_id!);
  assert.deepEqual(revoked, { revoked: 1, remaining: 1 });

  const account = await calpush(
    'accounts',
    'create',
    '--client-id',
    client.client_id!,
    '--email',
    'a@example.com',
  );
  assert.match(account.account_id!, /^acc_/);
  assert.match(account.access_token!, /^tok_/);
  assert.match(account.calendar_id!, /^cal_/);
});

test('bad usage is a clear error, not a stack trace', async () => {
  await assert.rejects(
    run(process.execPath, [bin, 'clients', 'create', '--data', dataDir]),
    (err: { code: number; stderr: string }) => err.code === 2 && /missing --name/.test(err.stderr),
  );
  await assert.rejects(
    run(process.execPath, [
      bin,
      'accounts',
      'create',
      '--client-id',
      'cli_nope',
      '--email',
      'x@y.z',
      '--data',
      dataDir,
    ]),
    (err: { code: number; stderr: string }) =>
      err.code === 1 && /no client cli_nope/.test(err.stderr),
  );
});

test('a bad setting in the environment is named in a clear error', async () => {
  await assert.rejects(
    run(process.execPath, [bin, 'serve', '--data', dataDir, '--port', '0'], {
      env: { ...process.env, CALPUSH_MIN_INTERVAL_MS: '-5' },
    }),
    (err: { code: number; stderr: string }) =>
      err.code !== 0 && /delivery\.minIntervalMs/.test(err.stderr) && !/\n\s+at /.test(err.stderr),
  );
});

test('sources are added, listed and removed from the CLI', async () => {
  const body = [
    'BEGIN:VCALENDAR',
    'VERSION:2.0',
    'PRODID:-//test//cli//EN',
    'BEGIN:VEVENT',
    'UID:one@test',
    'DTSTAMP:20261201T000000Z',
    'DTSTART:20261207T090000Z',
    'DTEND:20261207T100000Z',
    'SUMMARY:One',
    'END:VEVENT',
    'END:VCALENDAR',
    '',
  ].join('\r\n');
  const feed = createServer((_req, res) => res.writeHead(200, { etag: '"1"' }).end(body));
  feed.listen(0, '127.0.0.1');
  await once(feed, 'listening');
  try {
    const url = `http://127.0.0.1:${(feed.address() as AddressInfo).port}/cli.ics`;
    const client = await calpush('clients', 'create', '--name', 'Feeds');
    const account = await calpush(
      'accounts',
      'create',
      '--client-id',
      client.client_id!,
      '--email',
      'f@example.com',
    );
    const added = await calpush(
      'sources',
      'add',
      '--account-id',
      account.account_id!,
      '--ics',
      url,
      '--dev',
    );
    assert.match(added.source_id!, /^src_/);
    assert.equal(added.state, 'initial_sync');
    assert.equal(added.url, url);
    const listed = (await calpush('sources', 'list', '--account-id', account.account_id!)) as {
      sources?: { source_id: string }[];
    };
    assert.deepEqual(
      listed.sources?.map((s) => s.source_id),
      [added.source_id],
    );
    assert.deepEqual(await calpush('sources', 'remove', '--source-id', added.source_id!), {
      removed: added.source_id,
    });
    await assert.rejects(
      run(process.execPath, [bin, 'sources', 'add', '--account-id', 'x', '--data', dataDir]),
      (err: { code: number; stderr: string }) =>
        err.code === 2 && /exactly one of/.test(err.stderr),
    );
  } finally {
    feed.close();
  }
});

test('operator tokens are made and revoked from the CLI, and open the admin API', async () => {
  const made = await calpush('admin-token', 'create', '--name', 'alice');
  assert.match(made.admin_token!, /^adm_/);
  const service = await createService(loadConfig({ dataDir, logLevel: 'silent' }, {}), {
    logger: createLogger('silent'),
  });
  try {
    assert.equal(await isOperatorToken(service.core, made.admin_token, undefined), true);
    assert.equal(await isOperatorToken(service.core, 'adm_guess', undefined), false);
  } finally {
    await service.stop();
  }
  assert.deepEqual(await calpush('admin-token', 'revoke-all'), { revoked: 1 });
});
