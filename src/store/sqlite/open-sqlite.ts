import { join } from 'node:path';
import { Kysely, SqliteDialect } from 'kysely';
import type { Database } from '../schema.ts';
import type { EngineMigrationContext } from '../migrations/context.ts';
import type { OpenedEngine } from '../opened-engine.ts';
import { NodeSqliteDatabase } from './node-sqlite-database.ts';
import { registerSqliteConnection } from './direct-statements.ts';
import { sqliteTraits } from './sqlite-traits.ts';
import { narrowFile, privateDir, privateFile } from '../private-files.ts';

const sqliteMigrationContext: EngineMigrationContext = {
  autoId: (table, name = 'id') =>
    table.addColumn(name, 'integer', (c) => c.primaryKey().autoIncrement()),
  // SQLite has no TRUNCATE: its "delete everything" shortcut is skipped on tables with triggers.
  tokenRevocationCounter: (table, counter) => [
    `create trigger ${table}_deleted after delete on ${table}
       begin update ${counter} set count = count + 1 where id = 1; end`,
    `create trigger ${table}_rewritten after update of token_hash, account_id on ${table}
       begin update ${counter} set count = count + 1 where id = 1; end`,
  ],
};

/** One file under the data directory, in WAL mode, through the built-in node:sqlite. */
export function openSqlite(dataDir: string): OpenedEngine {
  privateDir(dataDir);
  const file = join(dataDir, 'calpush.sqlite');
  // SQLite would make the file 0644; made first, it is 0600, and SQLite gives its -wal and
  // -shm files the database file's mode when it makes them.
  privateFile(file);
  narrowFile(`${file}-wal`);
  narrowFile(`${file}-shm`);
  const database = new NodeSqliteDatabase(file);
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database }) });
  registerSqliteConnection(db, database);
  // The store is closed once the checkpoint thread has let go of the file as well.
  return {
    engine: 'sqlite',
    db,
    location: file,
    traits: sqliteTraits,
    migrationContext: sqliteMigrationContext,
    closed: () => database.stopped,
    migrated: () => {
      database.keepTemporariesInMemory();
      database.forgetStatements();
    },
  };
}
