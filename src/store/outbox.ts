import { lockChannels, sendingIds } from './channel-locks.ts';
import type { Insertable, QueryCreator } from 'kysely';
import type { Database, Executor, NotificationsTable } from './schema.ts';
import { traitsOf } from './engine-traits.ts';
import { prepared } from './prepared.ts';
import { chunks, insertRuns, padToPowerOfTwo } from './list-lengths.ts';
import { PENDING, liveState } from './live-notifications.ts';
import type { NotificationKind } from '../domain/notification.ts';

/**
 * A change that merges into a queued replay or test notification makes it an ordinary one:
 * sent under a replay's old id and marked `Calpush-Replay`, the change would look like a
 * duplicate to a receiver that drops those by id. The row keeps its own id (the one it goes
 * out under once unmarked) and its earlier `changes_since`, which covers both.
 */
const UNMARKED = { replay_of: null, purpose: null } as const;

/**
 * Only a marked row is written: the common merge, into an ordinary pending row, stays a
 * conflict that updates nothing.
 */
const pendingRows = (db: QueryCreator<Database>, rows: Insertable<NotificationsTable>[]) =>
  db
    .insertInto('notifications')
    .values(rows)
    .onConflict((oc) =>
      oc
        .columns(['channel_id', 'kind'])
        .where('state', '=', PENDING)
        .doUpdateSet(UNMARKED)
        .where('notifications.purpose', 'is not', null),
    );

/** The same, for notifications that name the latest change: a merge raises `latest_seq`. */
const pendingLatestRows = (db: QueryCreator<Database>, rows: Insertable<NotificationsTable>[]) =>
  db
    .insertInto('notifications')
    .values(rows)
    .onConflict((oc) =>
      oc
        .columns(['channel_id', 'kind'])
        .where('state', '=', PENDING)
        .doUpdateSet((eb) => ({ latest_seq: eb.ref('excluded.latest_seq'), ...UNMARKED })),
    );

const insertPending = prepared(pendingRows);
const insertPendingLatest = prepared(pendingLatestRows);

/**
 * A head on the wire is still `pending` (a claim only records it as the channel's
 * `sending_id`), so a change of its kind would merge into a notification the receiver may
 * already have read. Such heads are set aside to `sending`, out of the coalescing index,
 * before the change queues: it then gets a row of its own, sent after the head.
 */
const setAsideHeads = prepared((db, headIds: number[], kind: string) =>
  db
    .updateTable('notifications')
    .set({ state: 'sending' })
    .where('id', 'in', headIds)
    .where('kind', '=', kind)
    .where('state', '=', PENDING),
);

/** The same, for channels whose heads the caller did not read. */
const setAsideHeadsOf = prepared((db, channelIds: string[], kind: string) =>
  db
    .updateTable('notifications')
    .set({ state: 'sending' })
    .where('id', 'in', (eb) =>
      eb
        .selectFrom('channels')
        .select('sending_id')
        .where('id', 'in', channelIds)
        .where('sending_id', 'is not', null),
    )
    .where('kind', '=', kind)
    .where('state', '=', PENDING),
);

/**
 * A channel with a queue keeps the due time of its head; an idle one becomes due now, or
 * when its quiet interval after the last delivery ends. Busy channels are not touched at
 * all, which spares their pages a rewrite per change.
 */
const idleScheduled = (db: QueryCreator<Database>, ids: string[], now: number) =>
  db
    .updateTable('channels')
    .set((eb) => ({
      queue_due_at: eb
        .case()
        .when('quiet_until', '>', now)
        .then(eb.ref('quiet_until'))
        .else(now)
        .end(),
    }))
    .where('id', 'in', ids)
    .where('queue_due_at', 'is', null);

const scheduleIdle = prepared(idleScheduled);

/**
 * The insert and the schedule as one statement, where each statement is a round trip made
 * while the channels' locks are held (PostgreSQL). The two touch different tables, so
 * neither needs to see the other's rows.
 */
function insertAndSchedule(insert: typeof pendingRows) {
  return prepared((db, rows: Insertable<NotificationsTable>[], ids: string[], now: number) =>
    idleScheduled(
      db.with('queued', (w) => insert(w, rows)),
      ids,
      now,
    ),
  );
}
const insertPendingAndSchedule = insertAndSchedule(pendingRows);
const insertPendingLatestAndSchedule = insertAndSchedule(pendingLatestRows);

/**
 * The heads on the wire among the channels being queued to, as the caller read them in its
 * transaction (`sending_id`), or `unread`. Only SQLite uses them: it runs one writer at a
 * time, so that reading still stands. On PostgreSQL the heads come with the row locks the
 * enqueue takes anyway, read after them.
 */
export type HeadsOnTheWire = readonly number[] | 'unread';

/**
 * Locks channels (where writers run concurrently; `ids` sorted, at most a chunk) and sets
 * aside their heads on the wire of `kind`, as read under the locks. Where nothing is locked
 * (SQLite) the heads are looked up by the statement itself, unless `lookUpUnlocked` is false
 * because the caller set aside the heads it had read.
 */
export async function lockAndSetAsideHeads(
  trx: Executor,
  ids: readonly string[],
  kind: string,
  lookUpUnlocked = true,
): Promise<void> {
  const locked = await lockChannels(trx, ids);
  if (locked) {
    const heads = sendingIds(locked);
    if (heads.length > 0) await setAsideHeads(trx, padToPowerOfTwo(heads), kind);
  } else if (lookUpUnlocked) {
    await setAsideHeadsOf(trx, padToPowerOfTwo([...ids]), kind);
  }
}

/**
 * Queues one notification of `kind` per channel, in the caller's transaction. A channel that
 * already has one of that kind pending keeps it: that is coalescing, and the older row's
 * earlier `changes_since` still covers the new change; a replay or test notification it
 * merges into becomes an ordinary one (`UNMARKED`). A head on the wire is set aside
 * first; a caller that read the channels' `sending_id` passes those heads (`onTheWire`),
 * which spares SQLite looking them up again on every change. With `latestSeq` (the change's
 * sequence number, for a dialect that names the version) the pending row takes it instead
 * of staying as it was: change sequence numbers only grow.
 */
export async function enqueue(
  trx: Executor,
  channelIds: readonly string[],
  kind: NotificationKind,
  now: number,
  changesSince: number | null = null,
  onTheWire: HeadsOnTheWire = 'unread',
  latestSeq?: number,
): Promise<void> {
  if (!traitsOf(trx).concurrentWriters && onTheWire !== 'unread') {
    for (const heads of chunks(onTheWire)) {
      await setAsideHeads(trx, padToPowerOfTwo(heads), kind);
    }
  }
  for (const ids of chunks([...new Set(channelIds)].sort())) {
    await lockAndSetAsideHeads(trx, ids, kind, onTheWire === 'unread');
    const runs = insertRuns(trx, ids, 256).map((run) =>
      run.map((channelId) => ({
        channel_id: channelId,
        kind,
        state: 'pending',
        changes_since: changesSince,
        created_at: now,
        due_at: now,
        attempts: 0,
        delivered_at: null,
        ...(latestSeq === undefined ? {} : { latest_seq: latestSeq }),
      })),
    );
    // Nothing of their answers is read: where statements pipeline, the next statement (at the
    // latest the commit) carries them, and the write saves a round trip.
    const last = traitsOf(trx).writesInWith ? runs.pop() : undefined;
    for (const rows of runs) {
      if (latestSeq === undefined) await insertPending.unawaited(trx, rows);
      else await insertPendingLatest.unawaited(trx, rows);
    }
    const padded = padToPowerOfTwo(ids);
    if (!last) await scheduleIdle.unawaited(trx, padded, now);
    else if (latestSeq === undefined) {
      await insertPendingAndSchedule.unawaited(trx, last, padded, now);
    } else await insertPendingLatestAndSchedule.unawaited(trx, last, padded, now);
  }
}

/** Cancels everything queued for channels that are closing; in the caller's transaction. */
export async function cancelQueued(trx: Executor, channelIds: readonly string[]): Promise<void> {
  for (const ids of chunks(channelIds)) {
    await trx
      .updateTable('notifications')
      .set({ state: 'cancelled' })
      .where('channel_id', 'in', ids)
      .where(liveState)
      .execute();
  }
}
