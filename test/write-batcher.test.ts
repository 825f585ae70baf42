import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readlinkSync } from 'node:fs';
import type { Store } from '../src/store/store.ts';
import { groupCommit } from '../src/store/write-batcher.ts';
import { engines } from './support/postgres.ts';
import type { TestStore } from './support/test-store.ts';
import { openTestStore } from './support/test-store.ts';

const metaOf = (store: Store, key: string) =>
  store.db.selectFrom('meta').select('value').where('key', '=', key).executeTakeFirst();

// The store's write: group commit on SQLite, a transaction per write on PostgreSQL.
for (const engine of engines) {
  describe(`the store's writes on ${engine}`, () => {
    let opened: TestStore;
    let store: Store;
    before(async () => {
      opened = await openTestStore(engine);
      store = opened.store;
    });
    after(() => opened.close());
    const meta = (key: string) => metaOf(store, key);

    test('writes made together keep their own outcomes: a failing one rolls back alone', async () => {
      const write = store.write;
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
      const write = store.write;
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
  });
}

/** Files this process holds open that SQLite created as temporary (already unlinked) files. */
function openTemporaryFiles(): string[] {
  return readdirSync('/proc/self/fd')
    .map((fd) => {
      try {
        return readlinkSync(`/proc/self/fd/${fd}`);
      } catch {
        return '';
      }
    })
    .filter((target) => target.includes('etilqs_'));
}

describe('group commit on sqlite', () => {
  let opened: TestStore;
  let store: Store;
  before(async () => {
    opened = await openTestStore('sqlite');
    store = opened.store;
  });
  after(() => opened.close());

  test(
    'savepoints of a shared transaction keep their journals in memory, not in temporary files',
    { skip: !existsSync('/proc/self/fd') && 'needs /proc' },
    async () => {
      const write = groupCommit(store.db);
      const seen: string[][] = [];
      const big = 'x'.repeat(2000);
      await Promise.all(
        ['j1', 'j2'].map((job) =>
          write(async (trx) => {
            // Far past the 64 KiB that SQLite keeps in memory by default before spilling a
            // statement journal to a file.
            for (let i = 0; i < 200; i++) {
              await trx
                .insertInto('meta')
                .values({ key: `${job}-${i}`, value: big })
                .execute();
            }
            await trx
              .updateTable('meta')
              .set({ value: 'y' })
              .where('key', 'like', `${job}-%`)
              .execute();
            seen.push(openTemporaryFiles());
          }),
        ),
      );
      assert.equal(seen.length, 2, 'both writes ran');
      assert.deepEqual(seen, [[], []]);
      assert.equal((await metaOf(store, 'j2-199'))?.value, 'y');
    },
  );
});
