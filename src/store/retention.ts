import { setImmediate as turn } from 'node:timers/promises';
import { sql } from 'kysely';
import type { Db } from './schema.ts';
import { boundLimit } from './bound-limit.ts';

export interface RetentionPolicy {
  /** Delivered and cancelled notifications, attempts and changes older than this go. */
  readonly keepMs: number;
  /** The delivery log's own retention, when it differs from `keepMs`. */
  readonly attemptsKeepMs?: number;
  /** Rows looked at per statement, so no statement holds the store for long. */
  readonly batch: number;
  /** Windows per table per pass; a pass that ends before catching up goes on next time. */
  readonly windowsPerPass: number;
  /**
   * Every this many passes a sweep starts again from the oldest row, for rows it had to keep
   * before (a notification then pending, an account's newest change then) that may go now.
   */
  readonly restartEvery: number;
}

export const defaultRetention: RetentionPolicy = {
  keepMs: 7 * 24 * 60 * 60 * 1000,
  // A window of 500 rows holds the store for a few milliseconds; a pass every minute can
  // still remove half a million rows a table, far above a busy server's rate.
  batch: 500,
  windowsPerPass: 1_000,
  restartEvery: 60,
};

type HistoryTable = 'notifications' | 'attempts' | 'changes';

/** Each history table's key (grows with time) and the time its rows age from. */
const COLUMNS: Record<HistoryTable, { readonly key: string; readonly time: string }> = {
  notifications: { key: 'id', time: 'created_at' },
  attempts: { key: 'id', time: 'at' },
  changes: { key: 'seq', time: 'at' },
};

export interface Pruned {
  notifications: number;
  attempts: number;
  changes: number;
}

/** The rows one window covers: keys after `after`, up to and including `last`. */
interface Window {
  readonly after: number;
  readonly last: number;
  /** Some row in it is not old yet: every later row is younger still, so the sweep ends. */
  readonly reachedRecent: boolean;
  /** Fewer rows than a batch were left: the sweep reached the end of the table. */
  readonly reachedEnd: boolean;
}

/**
 * Removes history past its retention: finished notifications, the attempt log and old
 * change-log entries; pending work and each account's newest change are never touched.
 *
 * History tables grow by a row per delivery, so no statement may scan one whole: with no
 * index on the age columns that would hold the store's only connection for seconds at a
 * million rows. Each table is swept instead in windows of `batch` rows in key order (keys
 * grow with time): a read of the window by primary key and a delete within it, then a turn
 * of the event loop. A sweep ends at the window where rows stop being old, and the next pass
 * goes on from that window, so rows kept behind it (still pending, or an account's newest
 * change) are not read again on every pass; every `restartEvery` passes a sweep starts from
 * the oldest row to remove those that may go by then. Rows come out of key order by at most
 * the seconds between an attempt starting and its outcome being written, which only delays
 * their removal by a pass.
 */
export class HistoryPruner {
  readonly #db: Db;
  readonly #policy: RetentionPolicy;
  /** Where each sweep goes on from; 0 starts at the oldest row. */
  readonly #cursor: Record<HistoryTable, number> = { notifications: 0, attempts: 0, changes: 0 };
  #passes = 0;
  #running: Promise<Pruned> | undefined;
  #stopped = false;

  constructor(db: Db, policy: RetentionPolicy = defaultRetention) {
    this.#db = db;
    this.#policy = policy;
  }

  /**
   * Ends a pass under way after its current window (later passes do nothing) and settles once
   * it has: the store may close then.
   */
  async stop(): Promise<void> {
    this.#stopped = true;
    await this.#running?.catch(() => undefined);
  }

  /** One pass over each table; a pass still running when the next is due makes that one a no-op. */
  prune(now: number): Promise<Pruned> {
    if (this.#running || this.#stopped) {
      return Promise.resolve({ notifications: 0, attempts: 0, changes: 0 });
    }
    const pass = this.#pass(now).finally(() => {
      this.#running = undefined;
    });
    this.#running = pass;
    return pass;
  }

  async #pass(now: number): Promise<Pruned> {
    if (this.#passes++ % this.#policy.restartEvery === 0) {
      this.#cursor.notifications = this.#cursor.attempts = this.#cursor.changes = 0;
    }
    const before = now - this.#policy.keepMs;
    const attemptsBefore = now - (this.#policy.attemptsKeepMs ?? this.#policy.keepMs);
    return {
      attempts: await this.#sweep(
        'attempts',
        (w) => this.#attempts(w, attemptsBefore),
        attemptsBefore,
      ),
      notifications: await this.#sweep(
        'notifications',
        (w) => this.#notifications(w, before),
        before,
      ),
      changes: await this.#sweep('changes', (w) => this.#changes(w, before), before),
    };
  }

  async #sweep(
    table: HistoryTable,
    remove: (window: Window) => Promise<number>,
    before: number,
  ): Promise<number> {
    let removed = 0;
    for (let i = 0; i < this.#policy.windowsPerPass && !this.#stopped; i++) {
      const window = await this.#window(table, this.#cursor[table], before);
      if (!window) break;
      removed += await remove(window);
      // Where rows stop being old (or the table ends), the next pass reads this window again.
      const done = window.reachedRecent || window.reachedEnd;
      this.#cursor[table] = done ? window.after : window.last;
      if (done) break;
      await turn();
    }
    return removed;
  }

  /** The next `batch` rows after `after` in key order, or undefined past the last row. */
  async #window(table: HistoryTable, after: number, before: number): Promise<Window | undefined> {
    const { batch } = this.#policy;
    const { key, time } = COLUMNS[table];
    const rows = await this.#db
      .selectFrom(table)
      .select([sql.ref<number>(key).as('key'), sql.ref<number>(time).as('time')])
      .where(sql.ref(key), '>', after)
      .orderBy(sql.ref(key))
      .limit(boundLimit(batch))
      .execute();
    const last = rows.at(-1);
    if (!last) return undefined;
    return {
      after,
      last: Number(last.key),
      reachedRecent: rows.some((r) => Number(r.time) >= before),
      reachedEnd: rows.length < batch,
    };
  }

  async #attempts(w: Window, before: number): Promise<number> {
    const result = await this.#db
      .deleteFrom('attempts')
      .where('id', '>', w.after)
      .where('id', '<=', w.last)
      .where('at', '<', before)
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }

  async #notifications(w: Window, before: number): Promise<number> {
    const result = await this.#db
      .deleteFrom('notifications')
      .where('id', '>', w.after)
      .where('id', '<=', w.last)
      .where('state', 'in', ['delivered', 'cancelled'])
      .where('created_at', '<', before)
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }

  /**
   * The change log keeps each account's newest entry: it is where the next sync token starts,
   * however old.
   */
  async #changes(w: Window, before: number): Promise<number> {
    const result = await this.#db
      .deleteFrom('changes')
      .where('seq', '>', w.after)
      .where('seq', '<=', w.last)
      .where('at', '<', before)
      .where((eb) =>
        eb.exists(
          eb
            .selectFrom('changes as newer')
            .select('newer.seq')
            .whereRef('newer.account_id', '=', 'changes.account_id')
            .whereRef('newer.seq', '>', 'changes.seq'),
        ),
      )
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }
}
