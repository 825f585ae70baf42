import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import type { Insertable } from 'kysely';
import type { Store } from '../src/store/store.ts';
import type { AttemptsTable, Executor, MetaTable } from '../src/store/schema.ts';
import { prepared } from '../src/store/prepared.ts';
import { inTransaction, markEnded, markOpen } from '../src/store/transaction.ts';
import { engines } from './support/postgres.ts';
import type { TestStore } from './support/test-store.ts';
import { openTestStore } from './support/test-store.ts';

const insertMeta = prepared((db, rows: Insertable<MetaTable>[]) =>
  db.insertInto('meta').values(rows),
);
const metaIn = prepared((db, keys: string[], prefix: string) =>
  db
    .selectFrom('meta')
    .select(['key', 'value'])
    .where('key', 'in', keys)
    .where('value', 'like', prefix)
    .orderBy('key'),
);

const insertAttempts = prepared((db, rows: Insertable<AttemptsTable>[]) =>
  db.insertInto('attempts').values(rows),
);

for (const engine of engines) {
  describe(`prepared queries on ${engine}`, () => {
    let opened: TestStore;
    let store: Store;
    before(async () => {
      opened = await openTestStore(engine);
      store = opened.store;
    });
    after(() => opened.close());

    test('one compiled query serves every call of a shape, with each call’s own values', async () => {
      await insertMeta(store.db, [{ key: 'p1', value: 'x-1' }]);
      await insertMeta(store.db, [
        { key: 'p2', value: 'x-2' },
        { key: 'p3', value: 'y-3' },
      ]);
      await insertMeta(store.db, [{ key: 'p4', value: 'x-4' }]);
      const x = await metaIn(store.db, ['p1', 'p2', 'p3', 'p4'], 'x-%');
      assert.deepEqual(
        x.rows.map((r) => r.key),
        ['p1', 'p2', 'p4'],
      );
      const y = await metaIn(store.db, ['p2', 'p3', 'p4', 'p1'], 'y-%');
      assert.deepEqual(
        y.rows.map((r) => r.value),
        ['y-3'],
      );
      const one = await metaIn(store.db, ['p4'], 'x-%');
      assert.deepEqual(
        one.rows.map((r) => r.key),
        ['p4'],
      );
    });

    test('rows of different shapes, in any order, each get the statement of their own shape', async () => {
      // A row without `error` leaves the column to its default: the SQL text differs, and
      // so must the cache's key, whatever the order and runs of the rows' shapes.
      const row = (n: number, error?: string) => ({
        notification_id: n,
        channel_id: 'shapes',
        at: 1,
        status: 200,
        ...(error === undefined ? {} : { error }),
        latency_ms: 1,
        decision: 'delivered',
      });
      // For each batch length the first statement leaves `error` out of some rows: a later
      // batch that wrongly reused it would lose its errors.
      await insertAttempts(store.db, [row(1), row(2)]);
      await insertAttempts(store.db, [row(3), row(4, 'e4')]);
      await insertAttempts(store.db, [row(5, 'e5'), row(6)]);
      await insertAttempts(store.db, [row(7), row(8), row(9)]);
      await insertAttempts(store.db, [row(10), row(11), row(12, 'e12')]);
      await insertAttempts(store.db, [row(13, 'e13'), row(14), row(15)]);
      await insertAttempts(store.db, [row(16), row(17, 'e17'), row(18)]);
      await insertAttempts(store.db, [row(19, 'e19'), row(20), row(21), row(22, 'e22')]);
      await insertAttempts(store.db, [row(23, 'e23'), row(24, 'e24'), row(25), row(26, 'e26')]);
      const rows = await store.db
        .selectFrom('attempts')
        .select(['notification_id', 'error'])
        .where('channel_id', '=', 'shapes')
        .orderBy('notification_id')
        .execute();
      assert.deepEqual(
        rows.map((r) => `${r.notification_id}:${r.error ?? '-'}`),
        [
          '1:-',
          '2:-',
          '3:-',
          '4:e4',
          '5:e5',
          '6:-',
          '7:-',
          '8:-',
          '9:-',
          '10:-',
          '11:-',
          '12:e12',
          '13:e13',
          '14:-',
          '15:-',
          '16:-',
          '17:e17',
          '18:-',
          '19:e19',
          '20:-',
          '21:-',
          '22:e22',
          '23:e23',
          '24:e24',
          '25:-',
          '26:e26',
        ],
      );
    });

    test('runs inside a transaction and rolls back with it', async () => {
      await assert.rejects(
        inTransaction(store.db, async (trx) => {
          await insertMeta(trx, [{ key: 'rolled', value: 'x-r' }]);
          throw new Error('roll back');
        }),
      );
      assert.equal((await metaIn(store.db, ['rolled'], '%')).rows.length, 0);
    });

    test('a read outside a transaction never sees a write still in progress', async () => {
      const trx = await store.db.startTransaction().execute();
      markOpen(trx);
      await insertMeta(trx, [{ key: 'in-progress', value: 'x-p' }]);
      // Inside the transaction its own write is visible at once …
      assert.equal((await metaIn(trx, ['in-progress'], '%')).rows.length, 1);
      // … while a read outside it waits for the connection and sees only what committed.
      const outside = metaIn(store.db, ['in-progress'], '%');
      markEnded(trx);
      await trx.rollback().execute();
      assert.equal((await outside).rows.length, 0);
    });

    test('a transaction used after it ended is refused, never run in whichever holds the connection', async () => {
      let ended: Executor | undefined;
      await inTransaction(store.db, async (trx) => {
        ended = trx;
        await insertMeta(trx, [{ key: 'inside', value: 'x-i' }]);
      });
      assert.ok(ended);
      const other = await store.db.startTransaction().execute();
      markOpen(other);
      await assert.rejects(insertMeta(ended, [{ key: 'late', value: 'x-l' }]), /already committed/);
      markEnded(other);
      await other.commit().execute();
      await assert.rejects(
        insertMeta(ended, [{ key: 'later', value: 'x-l' }]),
        /already committed/,
      );
      assert.deepEqual(
        (await metaIn(store.db, ['inside', 'late', 'later'], '%')).rows.map((r) => r.key),
        ['inside'],
      );
    });

    test('refuses a build that inlines its argument into the SQL text', () => {
      const inlined = prepared((db, key: string) =>
        db.selectFrom('meta').select('value').where('key', '=', sql.lit(key)),
      );
      assert.throws(() => inlined(store.db, 'anything'), /inlines an argument/);
    });
  });
}
