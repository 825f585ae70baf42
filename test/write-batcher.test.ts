import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Store } from '../src/store/store.ts';
import { openStore } from '../src/store/store.ts';
import { groupCommit } from '../src/store/write-batcher.ts';

let dir: string;
let store: Store;
before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'calpush-batch-'));
  store = await openStore({ dataDir: dir });
});
after(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

const meta = (key: string) =>
  store.db.selectFrom('meta').select('value').where('key', '=', key).executeTakeFirst();

test('writes made together keep their own outcomes: a failing one rolls back alone', async () => {
  const write = groupCommit(store.db);
  let transactions = 0;
  const results = await Promise.allSettled(
    ['a', 'b', 'boom', 'c'].map((key) =>
      write(async (trx) => {
        transactions++;
        await trx.insertInto('meta').values({ key, value: key }).execute();
        if (key === 'boom') throw new Error('refused');
        return key;
      }),
    ),
  );
  assert.deepEqual(
    results.map((r) => r.status),
    ['fulfilled', 'fulfilled', 'rejected', 'fulfilled'],
  );
  assert.equal(transactions, 4);
  assert.equal((await meta('a'))?.value, 'a');
  assert.equal((await meta('c'))?.value, 'c');
  assert.equal(await meta('boom'), undefined, 'the failed write left nothing behind');
});

test('a write alone runs in its own transaction and reports its own error', async () => {
  const write = groupCommit(store.db);
  assert.equal(await write(() => Promise.resolve(42)), 42);
  await assert.rejects(
    write(async (trx) => {
      await trx.insertInto('meta').values({ key: 'lonely', value: 'x' }).execute();
      throw new Error('no');
    }),
    /no/,
  );
  assert.equal(await meta('lonely'), undefined);
});
