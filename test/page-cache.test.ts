import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import type { Store } from '../src/store/store.ts';
import { openStore } from '../src/store/store.ts';
import { PAGE_CACHE_KIB } from '../src/store/sqlite/node-sqlite-database.ts';

// The store's own connection keeps a working set larger than SQLite's default page cache
// (2 MB): pages read once are not read from the file again. The checkpoint thread reads the
// same files, so only the main thread's read calls are counted.

let dir: string;
let store: Store;
before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'calpush-cache-'));
  store = await openStore({ dataDir: dir });
});
after(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

const mainThreadIo = `/proc/self/task/${process.pid}/io`;

/** Read calls the main thread has made so far. */
function readCalls(): number {
  const match = /^syscr:\s*(\d+)$/m.exec(readFileSync(mainThreadIo, 'utf8'));
  if (!match) throw new Error(`no syscr in ${mainThreadIo}`);
  return Number(match[1]);
}

async function scan(): Promise<number> {
  const { rows } = await sql<{
    bytes: number;
  }>`select sum(length(value)) as bytes from meta where key like 'cache-%'`.execute(store.db);
  return Number(rows[0]?.bytes);
}

test(
  'a working set over 2 MB and under the page cache is read from the file once',
  { skip: !existsSync(mainThreadIo) && 'needs /proc/<pid>/task' },
  async () => {
    const value = 'v'.repeat(2000);
    const rows = 2500; // ~5 MB of pages: over the default cache, under ours
    assert.ok(rows * value.length < PAGE_CACHE_KIB * 1024 * 0.8);
    await store.db.transaction().execute(async (trx) => {
      for (let i = 0; i < rows; i += 250) {
        await trx
          .insertInto('meta')
          .values(Array.from({ length: 250 }, (_, j) => ({ key: `cache-${i + j}`, value })))
          .execute();
      }
    });
    assert.equal(await scan(), rows * value.length);
    const before = readCalls();
    assert.equal(await scan(), rows * value.length);
    const reads = readCalls() - before;
    // With SQLite's default 2 MB cache the second scan reads over a thousand pages again.
    assert.ok(reads < 20, `the second scan made ${reads} read calls`);
  },
);
