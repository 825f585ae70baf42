import type { Executor } from './schema.ts';

/**
 * What a query writer must know of the engine under a store: each difference between SQLite
 * and PostgreSQL that changes what the code does, named once. Each engine folder declares its
 * own (`sqlite/sqlite-traits.ts`, `postgres/postgres-traits.ts`); `openStore` puts them on the
 * store and registers them here, so code that holds only an executor or a transaction reads
 * them with `traitsOf` instead of asking which SQL builder adapter it runs on.
 */
export interface EngineTraits {
  /**
   * Writers run concurrently (PostgreSQL), so a transaction that recomputes rows from what it
   * read first locks them: channel rows before their queue state (`lockChannels`), an
   * account's lock before its changes (`serializeAccountChanges`), and a claim skips the
   * channels another node has locked (FOR UPDATE SKIP LOCKED). With one writer at a time
   * (SQLite) a reading stands until the transaction ends, and none of that is needed.
   */
  readonly concurrentWriters: boolean;
  /**
   * Each statement text is prepared and kept with a program of its own (SQLite), so every
   * length of a bound list is one more statement held: rows to insert go in power-of-two runs
   * (`insertRuns`). PostgreSQL keeps a bounded number per connection (named statements), and
   * there one more statement is one more round trip.
   */
  readonly keepsStatementTexts: boolean;
  /**
   * A statement may write in its WITH clause (PostgreSQL), so writes that would each be a
   * round trip while locks are held go as one statement (`appendChange`, the enqueue's
   * insert and schedule). SQLite's WITH holds queries only, and it has no round trips.
   */
  readonly writesInWith: boolean;
  /**
   * A connection's statements can go out before the answers to those before them
   * (PostgreSQL): a transaction's statements that do not need each other's answers are sent
   * together and answered in one round trip (`prepared(…).sentAhead`, `.unawaited`). SQLite
   * has no round trips.
   */
  readonly pipelines: boolean;
  /**
   * The column a claim picks its channel rows by: SQLite's `rowid`, which spares one index
   * lookup per row over the primary key; `id` where tables have no row ids.
   */
  readonly claimKey: 'rowid' | 'id';
  /**
   * One process has the store (an SQLite file): a lease found at start was left by a crash,
   * and is freed at once. A store several nodes share (PostgreSQL) cannot tell a dead holder
   * from a live one, and waits for the lease to run out.
   */
  readonly singleNode: boolean;
  /**
   * One connection serves every write (SQLite), and a commit costs far more than a savepoint:
   * writes made together share one transaction (group commit, `write-batcher.ts`). Elsewhere
   * each write is a transaction of its own.
   */
  readonly groupCommit: boolean;
  /**
   * The collation that compares text byte by byte, as JavaScript compares ASCII strings: a
   * cursor over ids read in SQL and merged in code must order both the same way. SQLite's
   * default already does (null); PostgreSQL's follows the database's locale unless told.
   */
  readonly bytewiseCollation: string | null;
  /**
   * Whose clock leases are stamped from and judged by. With one node (SQLite) its own clock
   * is the only one, and the time goes in as a bound value. Nodes that share a store have
   * clocks that disagree, so the database's clock stamps a lease's end and decides whether
   * it has passed (`lease-time.ts`): a node whose clock is ahead cannot take a live lease,
   * and one whose clock is behind is not told its lease lasts longer than it does.
   */
  readonly leaseClock: 'node' | 'database';
}

/** Each open store's traits, by its SQL builder's adapter (which its transactions share). */
const registered = new WeakMap<object, EngineTraits>();

/** Done by `openStore`, before the store runs a statement. */
export function registerTraits(db: Executor, traits: EngineTraits): void {
  registered.set(db.getExecutor().adapter, traits);
}

/** The traits of the engine `db` runs on: a store, or a transaction of one. */
export function traitsOf(db: Executor): EngineTraits {
  const traits = registered.get(db.getExecutor().adapter);
  if (!traits) throw new Error('no engine traits for this executor: open it with openStore');
  return traits;
}
