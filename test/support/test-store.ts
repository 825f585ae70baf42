import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Store } from '../../src/store/store.ts';
import { openStore } from '../../src/store/store.ts';
import type { TestEngine } from './postgres.ts';
import { createTestDatabase } from './postgres.ts';

export interface TestStore {
  readonly store: Store;
  /** Closes the store and removes its files or its database. */
  close(): Promise<void>;
}

/** A store of `engine` alone, without a service: a fresh SQLite directory or database. */
export async function openTestStore(engine: TestEngine): Promise<TestStore> {
  if (engine === 'postgres') {
    const database = await createTestDatabase();
    const store = await openStore({ dataDir: '', databaseUrl: database.url });
    return {
      store,
      async close() {
        await store.close();
        await database.drop();
      },
    };
  }
  const dir = mkdtempSync(join(tmpdir(), 'calpush-store-'));
  const store = await openStore({ dataDir: dir });
  return {
    store,
    async close() {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
