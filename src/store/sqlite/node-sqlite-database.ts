import { DatabaseSync } from 'node:sqlite';
import { Worker } from 'node:worker_threads';
import type { StatementSync } from 'node:sqlite';
import type { SqliteDatabase, SqliteStatement } from 'kysely';

type SqlValue = null | number | bigint | string | Uint8Array;

/** The main connection's page cache, in KiB. */
export const PAGE_CACHE_KIB = 8192;

/** node:sqlite binds no booleans or undefined; the SQL builder may hand us both. */
function bindable(parameters: ReadonlyArray<unknown>): SqlValue[] {
  return parameters.map((p) => {
    if (p === undefined || p === null) return null;
    if (typeof p === 'boolean') return p ? 1 : 0;
    return p as SqlValue;
  });
}

type RowMaker = (values: readonly unknown[]) => unknown;

/**
 * Rows as plain objects built in column order. node:sqlite makes each row a null-prototype
 * object, which V8 keeps in dictionary mode: every property read is a hash lookup, and the
 * hot paths read their rows field by field. Fetched as arrays and copied into objects of
 * one shape per statement, the rows are ordinary fast objects (test/sqlite-rows.test.ts).
 */
function rowMaker(names: readonly string[]): RowMaker {
  // On a plain object a column named __proto__ would set the prototype instead of a
  // property: such rows keep node:sqlite's null prototype.
  const plain = !names.includes('__proto__');
  return (values) => {
    const row: Record<string, unknown> = plain
      ? {}
      : (Object.create(null) as Record<string, unknown>);
    for (let i = 0; i < names.length; i++) row[names[i] as string] = values[i];
    return row;
  };
}

class CachedStatement implements SqliteStatement {
  readonly reader: boolean;
  readonly #stmt: StatementSync;
  #width = 0;
  #makeRow: RowMaker = (values) => values;
  constructor(stmt: StatementSync) {
    this.#stmt = stmt;
    this.#describe();
    this.reader = this.#width > 0;
    if (this.reader) stmt.setReturnArrays(true);
  }
  #describe(): void {
    const names = this.#stmt.columns().map((c) => c.name);
    this.#width = names.length;
    this.#makeRow = rowMaker(names);
  }
  /**
   * The names for a row of this width. SQLite prepares a statement again when another
   * connection changed the schema, and a `select *` then returns the columns of the new
   * table: a width that changed means the names did. (A rename keeps the width; this store's
   * migrations only add columns and indexes, and they run before the statements are cached.)
   */
  #rowMaker(width: number): RowMaker {
    if (width !== this.#width) this.#describe();
    return this.#makeRow;
  }
  all(parameters: ReadonlyArray<unknown>): unknown[] {
    const rows: unknown[] = this.#stmt.all(...bindable(parameters));
    if (!this.reader || rows.length === 0) return rows;
    const makeRow = this.#rowMaker((rows[0] as unknown[]).length);
    for (let i = 0; i < rows.length; i++) rows[i] = makeRow(rows[i] as unknown[]);
    return rows;
  }
  run(parameters: ReadonlyArray<unknown>) {
    const { changes, lastInsertRowid } = this.#stmt.run(...bindable(parameters));
    return { changes, lastInsertRowid };
  }
  *iterate(parameters: ReadonlyArray<unknown>): IterableIterator<unknown> {
    for (const row of this.#stmt.iterate(...bindable(parameters))) {
      if (!this.reader) yield row;
      else yield this.#rowMaker((row as unknown as unknown[]).length)(row as unknown as unknown[]);
    }
  }
}

/**
 * Presents node:sqlite as the database Kysely's SQLite dialect expects, caching prepared
 * statements: the builder produces the same SQL text for a query shape, so preparing once
 * saves the parse on every hot-path call.
 */
export class NodeSqliteDatabase implements SqliteDatabase {
  readonly raw: DatabaseSync;
  readonly #cache = new Map<string, CachedStatement>();
  readonly #checkpointer: Worker;
  /** Settles once the checkpoint thread has closed its connection and exited. */
  readonly stopped: Promise<void>;

  constructor(path: string) {
    this.raw = new DatabaseSync(path);
    this.raw.exec('PRAGMA journal_mode = WAL');
    // NORMAL in WAL mode survives a process crash (kill -9); only an OS crash may lose the
    // last commits, which is the trade every embedded queue of this kind makes.
    this.raw.exec('PRAGMA synchronous = NORMAL');
    this.raw.exec('PRAGMA foreign_keys = ON');
    this.raw.exec('PRAGMA busy_timeout = 5000');
    // SQLite's default page cache (2 MB) is smaller than what event writes touch: each
    // upsert lands in five event indexes keyed by calendar and account, and every page that
    // fell out was read from the file again (an eighth to a fifth of an upsert's CPU). 8 MiB
    // holds that working set; it fills only as pages are used (test/page-cache.test.ts).
    this.raw.exec(`PRAGMA cache_size = -${PAGE_CACHE_KIB}`);
    // Checkpoints (and their disk sync) run in a background thread; the main connection
    // only checkpoints itself if that thread falls far behind (20,000 pages of WAL).
    this.raw.exec('PRAGMA wal_autocheckpoint = 20000');
    this.#checkpointer = new Worker(new URL('./checkpoint-worker.js', import.meta.url), {
      workerData: { file: path, everyMs: 200 },
      // It runs one pragma at a time: a small heap is plenty.
      resourceLimits: { maxOldGenerationSizeMb: 8, maxYoungGenerationSizeMb: 2 },
    });
    this.#checkpointer.unref();
    const checkpointer = this.#checkpointer;
    this.stopped = new Promise((resolve) => checkpointer.once('exit', () => resolve()));
    // Losing the helper only means the main connection checkpoints on its own again.
    this.#checkpointer.on('error', () => undefined);
  }

  /**
   * Statement journals (every savepoint of the group commit, every multi-row statement in a
   * transaction) stay in memory instead of spilling to a temporary file each: on disk they
   * cost an open, writes and an unlink per transaction. Set once the migrations have run:
   * their index builds sort whole tables, which belongs on disk, not in memory.
   */
  keepTemporariesInMemory(): void {
    this.raw.exec('PRAGMA temp_store = MEMORY');
  }

  /** After the migrations: statements prepared on the old tables are not kept. */
  forgetStatements(): void {
    this.#cache.clear();
  }

  prepare(sql: string): SqliteStatement {
    let stmt = this.#cache.get(sql);
    if (!stmt) {
      stmt = new CachedStatement(this.raw.prepare(sql));
      if (this.#cache.size > 2000) this.#cache.clear();
      this.#cache.set(sql, stmt);
    }
    return stmt;
  }

  close(): void {
    // Keep the process alive until the thread has let go of the file (see `stopped`).
    this.#checkpointer.ref();
    this.#checkpointer.postMessage('stop');
    this.#cache.clear();
    this.raw.close();
  }
}
