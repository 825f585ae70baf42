import { afterEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { ManualClock } from '../src/domain/clock.ts';
import { hashToken } from '../src/core/ids.ts';
import type { Harness } from './support/harness.ts';
import { createTestAccount, startHarness } from './support/harness.ts';

let h: Harness | undefined;
afterEach(() => h?.close());

const whoAmI = (harness: Harness, token: string) =>
  harness.service.app.request('/v1/account', { headers: { authorization: `Bearer ${token}` } });

/** Another process's connection to the same file, as `calpush` commands have. */
function fromOutside(harness: Harness, sql: string, ...values: string[]): void {
  const other = new DatabaseSync(join(harness.dataDir, 'calpush.sqlite'));
  try {
    other.exec('PRAGMA busy_timeout = 5000');
    other.prepare(sql).run(...values);
  } finally {
    other.close();
  }
}

test('a token removed from the store by another process stops working within the cache time', async () => {
  const clock = new ManualClock();
  h = await startHarness({ clock, env: { CALPUSH_TOKEN_CACHE_MS: '1000' } });
  const account = await createTestAccount(h.service);
  assert.equal((await whoAmI(h, account.accessToken)).status, 200);

  fromOutside(h, 'delete from access_tokens where token_hash = ?', hashToken(account.accessToken));
  clock.advance(999);
  assert.equal((await whoAmI(h, account.accessToken)).status, 200, 'trusted for the cache time');
  clock.advance(1);
  assert.equal((await whoAmI(h, account.accessToken)).status, 401);
});

test('an unknown token is not remembered: once it exists it works at once', async () => {
  const clock = new ManualClock();
  h = await startHarness({ clock, env: { CALPUSH_TOKEN_CACHE_MS: '60000' } });
  const account = await createTestAccount(h.service);
  const later = 'tok_created_by_another_process_a_moment_later_0000';
  assert.equal((await whoAmI(h, later)).status, 401);
  fromOutside(
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
  fromOutside(h, 'delete from access_tokens where token_hash = ?', hashToken(account.accessToken));
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
