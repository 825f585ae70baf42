import { afterEach, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Harness } from './support/harness.ts';
import { addAccount, createTestAccount, startHarness, watchAccount } from './support/harness.ts';
import { ManualClock } from '../src/domain/clock.ts';
import { upsertManagedEvent } from '../src/core/events.ts';
import { claimDue } from '../src/store/queue/claim.ts';
import { recordCompletions } from '../src/store/queue/complete.ts';
import { directConnection } from '../src/store/sqlite/direct-statements.ts';
import { inTransaction } from '../src/store/transaction.ts';

let h: Harness | undefined;
afterEach(() => h?.close());

const isPowerOfTwo = (n: number) => n > 0 && (n & (n - 1)) === 0;

/** Lengths of the bound lists in a statement: `in (?, …)` and the rows of a VALUES. */
function boundListLengths(text: string): number[] {
  const lengths: number[] = [];
  for (const [, list] of text.matchAll(/ in \(((?:\?, )*\?)\)/g)) {
    lengths.push((list ?? '').split(',').length);
  }
  const values = / values (\(.*\))(?: on conflict| returning|$)/.exec(text)?.[1];
  if (values) lengths.push(values.split('), (').length);
  return lengths;
}

test('the queue binds its lists at power-of-two lengths only, whatever the batch', async () => {
  // Each new length is a statement of its own, kept prepared with its own program: a few
  // lengths per statement keep both caches small however batches vary.
  const clock = new ManualClock();
  h = await startHarness({ clock });
  const service = h.service;
  const db = service.store.db;
  const connection = await inTransaction(db, (trx) => Promise.resolve(directConnection(trx)));
  assert.ok(connection);
  const texts = new Set<string>();
  const prepare = connection.prepare.bind(connection);
  connection.prepare = (text) => {
    texts.add(text);
    return prepare(text);
  };

  // 24 accounts of 7 clients, three channels each: a change queues three notifications, and
  // a claim fetches the secrets of up to 7 clients.
  const clients = [];
  for (let c = 0; c < 7; c++) clients.push(await createTestAccount(service, `c${c}@x.test`));
  const accounts = [...clients];
  for (let i = clients.length; i < 24; i++) {
    const client = clients[i % clients.length]!;
    accounts.push({ ...client, ...(await addAccount(service, client.clientId, `u${i}@x.test`)) });
  }
  for (const account of accounts) {
    for (const c of [1, 2, 3]) await watchAccount(service, account, `http://127.0.0.1:9/${c}`);
  }
  // Only the queue's work from here: set-up statements have lengths of their own.
  texts.clear();
  const attempt = () => ({ at: clock.now(), status: 200, error: null, latencyMs: 1 });
  const deliverAll = async (limit: number) => {
    const claimed = await claimDue(db, {
      limit,
      leaseMs: 60_000,
      // Saturated origins elsewhere: the claim's exclusion list, at its own length.
      excludeOrigins: ['https://a.test', 'https://b.test', 'https://c.test'],
      now: clock.now(),
    });
    await recordCompletions(
      db,
      claimed.map((delivery) => ({ kind: 'delivered' as const, delivery, attempt: attempt() })),
      clock.now(),
    );
    return claimed.length;
  };
  let delivered = 0;
  // Claims and outcome batches of every size from 1 to 24, then the rest of the queue.
  for (let size = 1; size <= 24; size++) {
    for (const [i, account] of accounts.entries()) {
      await upsertManagedEvent(
        service.core,
        { accountId: account.accountId, calendarId: account.calendarId },
        `e${size}-${i}`,
        {
          summary: 'x',
          description: null,
          location: null,
          start: { dateTime: '2026-03-01T09:00:00Z' },
          end: { dateTime: '2026-03-01T10:00:00Z' },
        },
      );
    }
    clock.advance(1);
    delivered += await deliverAll(size);
    while (true) {
      const n = await deliverAll(72);
      if (n === 0) break;
      delivered += n;
    }
  }
  // Every notification once (72 verifications, then 72 changes a round), one attempt each,
  // nothing left in flight: the padded lists and the cut inserts changed no result.
  assert.equal(delivered, 72 + 24 * 72);
  const count = (sql: string) => (connection.raw.prepare(sql).get() as { n: number }).n;
  assert.equal(count('select count(*) as n from attempts'), delivered);
  assert.equal(
    count("select count(*) as n from notifications where state = 'delivered'"),
    delivered,
  );
  assert.equal(
    count("select count(*) as n from notifications where state in ('pending', 'sending')"),
    0,
  );

  const odd = [...texts].filter((text) => !boundListLengths(text).every(isPowerOfTwo));
  assert.deepEqual(odd, []);
  const listed = [...texts].filter((text) => boundListLengths(text).some((n) => n > 1));
  assert.ok(listed.length >= 6, `statements with lists ran (${listed.length})`);
});
