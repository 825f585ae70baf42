import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { DatabaseSync } from 'node:sqlite';
import { sql } from 'kysely';
import type { Store } from '../src/store/store.ts';
import { openStore } from '../src/store/store.ts';

setFlagsFromString('--allow-natives-syntax');
// Compiled after the flag is set, so the intrinsic parses.
const hasFastProperties = runInNewContext('(o) => %HasFastProperties(o)') as (
  o: unknown,
) => boolean;

let dir: string;
let store: Store;
before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'calpush-rows-'));
  store = await openStore({ dataDir: dir });
  await store.db
    .insertInto('meta')
    .values([
      { key: 'rows-a', value: '1' },
      { key: 'rows-b', value: '2' },
    ])
    .execute();
});
after(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

// node:sqlite's own rows are null-prototype objects in V8's dictionary mode (every read a
// hash lookup); the store hands out plain objects of one shape per statement instead.
test('SQLite rows are plain fast objects with the columns in order', async () => {
  const rows = await store.db
    .selectFrom('meta')
    .select(['value', 'key'])
    .where('key', 'like', 'rows-%')
    .orderBy('key')
    .execute();
  assert.deepEqual(rows, [
    { value: '1', key: 'rows-a' },
    { value: '2', key: 'rows-b' },
  ]);
  for (const row of rows) {
    assert.equal(Object.getPrototypeOf(row), Object.prototype);
    assert.deepEqual(Object.keys(row), ['value', 'key']);
    assert.ok(hasFastProperties(row), 'row is in dictionary mode');
  }
});

test('a RETURNING row and a streamed row get the same treatment', async () => {
  const [returned] = await store.db
    .updateTable('meta')
    .set({ value: '3' })
    .where('key', '=', 'rows-b')
    .returning(['key', 'value'])
    .execute();
  assert.deepEqual(returned, { key: 'rows-b', value: '3' });
  assert.ok(hasFastProperties(returned));
  const streamed = [];
  for await (const row of store.db
    .selectFrom('meta')
    .select(['key'])
    .where('key', 'like', 'rows-%')
    .orderBy('key')
    .stream()) {
    streamed.push(row);
  }
  assert.deepEqual(streamed, [{ key: 'rows-a' }, { key: 'rows-b' }]);
  assert.ok(streamed.every((r) => hasFastProperties(r)));
});

test('a column named __proto__ stays a column, not the prototype', async () => {
  const { rows } = await sql<Record<string, unknown>>`select 1 as "__proto__", 2 as two`.execute(
    store.db,
  );
  const [row] = rows;
  assert.ok(row);
  assert.equal(Object.getOwnPropertyDescriptor(row, '__proto__')?.value, 1);
  assert.equal(row.two, 2);
});

test('a select * follows a schema another connection changed', async () => {
  const other = new DatabaseSync(join(dir, 'calpush.sqlite'));
  try {
    other.exec(`create table scratch (a, b, c); insert into scratch values (1, 2, 3)`);
    const read = async () => (await sql`select * from scratch`.execute(store.db)).rows;
    assert.deepEqual(await read(), [{ a: 1, b: 2, c: 3 }]);
    other.exec(`alter table scratch add column d default 4`);
    assert.deepEqual(await read(), [{ a: 1, b: 2, c: 3, d: 4 }]);
    other.exec(`alter table scratch drop column b`);
    assert.deepEqual(await read(), [{ a: 1, c: 3, d: 4 }]);
  } finally {
    other.close();
  }
});

test('a repeated column name keeps the last value, as node:sqlite does', async () => {
  const { rows } = await sql<{ v: number }>`select 1 as v, 2 as v`.execute(store.db);
  assert.deepEqual({ ...rows[0] }, { v: 2 });
});
