import { afterEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import pg from 'pg';
import { ManualClock } from '../src/domain/clock.ts';
import { hashToken } from '../src/core/ids.ts';
import type { Harness } from './support/harness.ts';
import { createTestAccount, startHarness } from './support/harness.ts';
import { engines } from './support/postgres.ts';
import { tokenRevocationCount } from '../src/store/token-revocations.ts';

let h: Harness | undefined;
afterEach(() => h?.close());

const whoAmI = (harness: Harness, token: string) =>
  harness.service.app.request('/v1/account', { headers: { authorization: `Bearer ${token}` } });

/** `?` placeholders as PostgreSQL numbers them. */
const numbered = (statement: string) => {
  let n = 0;
  return statement.replace(/\?/g, () => `$${String(++n)}`);
};

/** Another process's connection to the store, as `calpush` commands or another node have. */
async function fromOutside(harness: Harness, statement: string, ...values: string[]) {
  if (harness.databaseUrl) {
    const other = new pg.Client({ connectionString: harness.databaseUrl });
    await other.connect();
    try {
      await other.query(numbered(statement), values);
    } finally {
      await other.end();
    }
    return;
  }
  const other = new DatabaseSync(join(harness.dataDir, 'calpush.sqlite'));
  try {
    other.exec('PRAGMA busy_timeout = 5000');
    other.prepare(statement).run(...values);
  } finally {
    other.close();
  }
}

for (const engine of engines) {
  test(`on ${engine}, a token deleted from the store by anyone else stops working within the cache time`, async () => {
    const clock = new ManualClock();
    h = await startHarness({ clock, engine, env: { CALPUSH_TOKEN_CACHE_MS: '1000' } });
    const account = await createTestAccount(h.service);
    assert.equal((await whoAmI(h, account.accessToken)).status, 200);

    await fromOutside(
      h,
      'delete from access_tokens where token_hash = ?',
      hashToken(account.accessToken),
    );
    clock.advance(999);
    assert.equal((await whoAmI(h, account.accessToken)).status, 200, 'trusted for the cache time');
    clock.advance(1);
    assert.equal((await whoAmI(h, account.accessToken)).status, 401);
  });

  test(`on ${engine}, a checked token is not read again while no token is deleted`, async () => {
    const clock = new ManualClock();
    h = await startHarness({ clock, engine, env: { CALPUSH_TOKEN_CACHE_MS: '1000' } });
    const account = await createTestAccount(h.service);
    assert.equal((await whoAmI(h, account.accessToken)).status, 200);
    // Without its table, any lookup of the token in the store would fail the request.
    await fromOutside(h, 'drop table access_tokens');
    for (let i = 0; i < 3; i++) {
      clock.advance(30_000);
      assert.equal((await whoAmI(h, account.accessToken)).status, 200);
    }
  });

  test(`on ${engine}, every way a token can go moves the store's count`, async () => {
    h = await startHarness({ clock: new ManualClock(), engine });
    const a = await createTestAccount(h.service, 'a@example.com');
    const b = await createTestAccount(h.service, 'b@example.com');
    const db = h.service.store.db;
    const ways = [
      [
        'update access_tokens set token_hash = ? where token_hash = ?',
        'x',
        hashToken(a.accessToken),
      ],
      ['update access_tokens set account_id = ? where account_id = ?', a.accountId, b.accountId],
      ['delete from access_tokens where token_hash = ?', 'x'],
      ...(engine === 'postgres' ? [['truncate access_tokens']] : []),
    ];
    for (const [statement, ...values] of ways) {
      const before = await tokenRevocationCount(db);
      await fromOutside(h, statement!, ...values);
      assert.ok((await tokenRevocationCount(db)) > before, statement);
    }
    // Rows that stay as they were move nothing.
    const still = await tokenRevocationCount(db);
    await fromOutside(h, 'update access_tokens set created_at = 1');
    assert.equal(await tokenRevocationCount(db), still);
  });
}

test('an unknown token is not remembered: once it exists it works at once', async () => {
  const clock = new ManualClock();
  h = await startHarness({ clock, env: { CALPUSH_TOKEN_CACHE_MS: '60000' } });
  const account = await createTestAccount(h.service);
  const later = 'tok_created_by_another_process_a_moment_later_0000';
  assert.equal((await whoAmI(h, later)).status, 401);
  await fromOutside(
    h,
    'insert into access_tokens (token_hash, account_id, created_at) values (?, ?, 0)',
    hashToken(later),
    account.accountId,
  );
  assert.equal((await whoAmI(h, later)).status, 200);
});

test('with the cache off, a removed token is refused on the next request', async () => {
  h = await startHarness({ clock: new ManualClock(), env: { CALPUSH_TOKEN_CACHE_MS: '0' } });
  const account = await createTestAccount(h.service);
  assert.equal((await whoAmI(h, account.accessToken)).status, 200);
  await fromOutside(
    h,
    'delete from access_tokens where token_hash = ?',
    hashToken(account.accessToken),
  );
  assert.equal((await whoAmI(h, account.accessToken)).status, 401);
});

test('each cached token speaks for its own account', async () => {
  h = await startHarness({ clock: new ManualClock() });
  const a = await createTestAccount(h.service, 'a@example.com');
  const b = await createTestAccount(h.service, 'b@example.com');
  const idOf = async (token: string) => {
    const res = await whoAmI(h!, token);
    return ((await res.json()) as { account: { account_id: string } }).account.account_id;
  };
  for (let round = 0; round < 2; round++) {
    assert.equal(await idOf(a.accessToken), a.accountId);
    assert.equal(await idOf(b.accessToken), b.accountId);
  }
});
