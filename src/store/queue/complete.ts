import { sql } from 'kysely';
import type { RawBuilder } from 'kysely';
import type { Insertable, QueryCreator } from 'kysely';
import type { AttemptsTable, Database, Db, Executor } from '../schema.ts';
import { prepared } from '../prepared.ts';
import type { Completion } from '../../domain/delivery.ts';
import { publicNotificationId } from '../../domain/delivery.ts';
import { errorClassOf } from '../../domain/attempt-log.ts';
import { holdChannels } from '../channel-locks.ts';
import { PENDING, liveState } from '../live-notifications.ts';
import { carryLatestSeq } from '../latest-seq.ts';
import { inTransaction } from '../transaction.ts';
import { closeChannels } from '../channel-closing.ts';
import { ACTIVE } from '../channel-states.ts';
import { chunks, insertRuns, padToPowerOfTwo } from '../list-lengths.ts';
import { byLease, headDueAt, headDueNotBefore, stillHeld } from './heads-and-leases.ts';
import { enqueue } from '../outbox.ts';
import { traitsOf } from '../engine-traits.ts';

const insertAttempts = prepared((db, rows: Insertable<AttemptsTable>[]) =>
  db.insertInto('attempts').values(rows),
);

/**
 * Marks delivered the heads whose channels still hold the lease their claim took (see
 * `recordCompletions`). The channel is looked up by its primary key for each row: cheaper
 * than asking the release that follows which channels it freed (RETURNING).
 */
const deliveredMarked = (
  db: QueryCreator<Database>,
  notificationIds: number[],
  now: number,
  leaseUntil: number,
) =>
  db
    .updateTable('notifications')
    .set({ state: 'delivered', delivered_at: now, attempts: sql`attempts + 1` })
    .where('id', 'in', notificationIds)
    .where(liveState)
    .where((eb) =>
      eb.exists(
        eb
          .selectFrom('channels as c')
          .select(sql.lit(1).as('held'))
          .whereRef('c.id', '=', 'notifications.channel_id')
          .where('c.lease_until', '=', leaseUntil)
          .where('c.state', '=', ACTIVE),
      ),
    );

const markDelivered = prepared(deliveredMarked);

/**
 * The attempts' insert and the first mark as one statement, where each statement is a round
 * trip made while the channels' locks are held (PostgreSQL): they touch different tables.
 */
const insertAttemptsAndMarkDelivered = prepared(
  (
    db,
    rows: Insertable<AttemptsTable>[],
    notificationIds: number[],
    now: number,
    leaseUntil: number,
  ) =>
    deliveredMarked(
      db.with('logged', (w) => w.insertInto('attempts').values(rows)),
      notificationIds,
      now,
      leaseUntil,
    ),
);

/**
 * Frees channels whose head was delivered, under the lease their claim took. The channel
 * stays quiet until `quietUntil`: what was queued meanwhile, and what comes before then,
 * goes out as one notification at that time.
 */
const releaseDelivered = prepared(
  (db, channelIds: string[], leaseUntil: number, quietUntil: number) =>
    db
      .updateTable('channels')
      .set({
        failing_since: null,
        lease_until: null,
        sending_id: null,
        quiet_until: quietUntil,
        queue_due_at: headDueNotBefore(quietUntil),
      })
      .where('id', 'in', channelIds)
      .where('state', '=', ACTIVE)
      .where('lease_until', '=', leaseUntil),
);

/** Every notification a request carried: its head and what was batched with it. */
function sentIds(completions: readonly Completion[]): number[] {
  return completions.flatMap((c) => [
    c.delivery.notificationId,
    ...(c.delivery.batched ?? []).map((b) => b.notificationId),
  ]);
}

/**
 * Notifications batched with a head that was not delivered go back to the queue behind it;
 * a change queued meanwhile under the same kind merges into each, as into a retried head.
 */
async function requeueBatched(trx: Executor, delivery: Completion['delivery']): Promise<void> {
  for (const b of delivery.batched ?? []) {
    await mergeBack(trx, delivery.channel.id, b, { state: 'pending' });
  }
}

/**
 * A notification that was on the wire goes back to the queue: a change queued meanwhile
 * under its kind merges into it (the pending row is dropped; the older row's earlier
 * `changes_since`, or lower message number, already covers it, and it takes the merged one's
 * latest change), and the row is set back with `set`.
 */
async function mergeBack(
  trx: Executor,
  channelId: string,
  sent: {
    readonly notificationId: number;
    readonly kind: string;
    readonly latestSeq?: number | null;
  },
  set: {
    readonly state: 'pending';
    readonly due_at?: number;
    readonly attempts?: RawBuilder<number>;
  },
): Promise<void> {
  if (sent.latestSeq != null) await carryLatestSeq(trx, [sent.notificationId]);
  await trx
    .deleteFrom('notifications')
    .where('channel_id', '=', channelId)
    .where('kind', '=', sent.kind)
    .where('state', '=', PENDING)
    .where('id', '<>', sent.notificationId)
    .execute();
  await trx
    .updateTable('notifications')
    .set(set)
    .where('id', '=', sent.notificationId)
    .where(liveState)
    .execute();
}

/** The delivery log's row for one finished attempt. */
function attemptRow(c: Completion): Insertable<AttemptsTable> {
  return {
    notification_id: publicNotificationId(c.delivery),
    channel_id: c.delivery.channel.id,
    at: c.attempt.at,
    status: c.attempt.status,
    error: c.attempt.error,
    latency_ms: Math.round(c.attempt.latencyMs),
    decision: c.kind,
    kind: c.delivery.kind,
    dialect: c.delivery.channel.dialect,
    error_class: errorClassOf(c.kind === 'delivered', c.attempt.status, c.attempt.error),
    response_excerpt: c.attempt.excerpt ?? null,
    next_retry_at: c.kind === 'retry' ? c.retryAt : null,
    purpose: c.delivery.purpose ?? null,
  };
}

/**
 * Writes a batch of finished attempts and their effect on the queue in one transaction. A
 * channel that was delivered to is not sent its next notification before `now + quietMs`.
 */
export async function recordCompletions(
  db: Db,
  completions: readonly Completion[],
  now: number,
  quietMs = 0,
): Promise<void> {
  if (completions.length === 0) return;
  await inTransaction(db, async (trx) => {
    await holdChannels(trx, [...new Set(completions.map((c) => c.delivery.channel.id))].sort());
    const runs = insertRuns(trx, completions, 128).map((batch) => batch.map(attemptRow));
    const delivered = completions.filter((c) => c.kind === 'delivered');
    // The last run waits for the first mark it can go with (see the fused statement).
    let unlogged = traitsOf(trx).writesInWith && delivered.length > 0 ? runs.pop() : undefined;
    for (const rows of runs) await insertAttempts(trx, rows);
    // An outcome changes the queue only under the lease its claim took. One that comes after
    // its lease ran out and another claim took the channel over (a stalled process) is
    // recorded as an attempt and nothing more: the head it sent, and any change queued
    // behind it, now belong to the new holder.
    for (const batch of chunks(delivered)) {
      for (const [leaseUntil, leased] of byLease(batch, (c) => c.delivery.leaseUntil)) {
        // The head first: the release then finds the channel's next notification.
        const ids = padToPowerOfTwo(sentIds(leased));
        if (unlogged) await insertAttemptsAndMarkDelivered(trx, unlogged, ids, now, leaseUntil);
        else await markDelivered(trx, ids, now, leaseUntil);
        unlogged = undefined;
        await releaseDelivered(
          trx,
          padToPowerOfTwo(leased.map((c) => c.delivery.channel.id)),
          leaseUntil,
          now + quietMs,
        );
      }
    }
    // A farewell delivered ends its channel (its lease was released above).
    for (const c of delivered) {
      if (c.thenClose !== undefined) {
        await closeChannels(trx, [c.delivery.channel.id], c.thenClose, now);
      }
    }
    for (const c of completions) {
      if (c.kind !== 'retry') continue;
      // The head is the channel's oldest queued notification, so it is next again, at its
      // retry time.
      const released = await trx
        .updateTable('channels')
        .set({
          lease_until: null,
          sending_id: null,
          failing_since: c.failingSince,
          queue_due_at: c.retryAt,
        })
        .where('id', '=', c.delivery.channel.id)
        .where('state', '=', ACTIVE)
        .where('lease_until', '=', c.delivery.leaseUntil)
        .executeTakeFirst();
      if (Number(released.numUpdatedRows) === 0) continue;
      await mergeBack(trx, c.delivery.channel.id, c.delivery, {
        state: 'pending',
        due_at: c.retryAt,
        attempts: sql<number>`attempts + 1`,
      });
      await requeueBatched(trx, c.delivery);
    }
    for (const c of completions) {
      if (c.kind !== 'drop') continue;
      // Given up on the head alone: the channel starts afresh with whatever comes next, and
      // hears `notice` (a dialect's word for what it missed).
      const channelId = c.delivery.channel.id;
      const released = await trx
        .updateTable('channels')
        .set({ lease_until: null, sending_id: null, failing_since: null })
        .where('id', '=', channelId)
        .where('state', '=', ACTIVE)
        .where('lease_until', '=', c.delivery.leaseUntil)
        .executeTakeFirst();
      if (Number(released.numUpdatedRows) === 0) continue;
      await trx
        .updateTable('notifications')
        .set({ state: 'cancelled', attempts: sql`attempts + 1` })
        .where('id', '=', c.delivery.notificationId)
        .where(liveState)
        .execute();
      // What went with it was only tried for part of the window: it stays queued.
      await requeueBatched(trx, c.delivery);
      if (c.notice !== null) await enqueue(trx, [channelId], c.notice, now);
      await trx
        .updateTable('channels')
        .set({ queue_due_at: headDueAt })
        .where('id', '=', channelId)
        .execute();
    }
    const closing = completions.filter((c) => c.kind === 'close');
    for (const [leaseUntil, leased] of byLease(closing, (c) => c.delivery.leaseUntil)) {
      for (const c of await stillHeld(trx, leased, leaseUntil, (c) => c.delivery.channel.id)) {
        await closeChannels(trx, [c.delivery.channel.id], c.reason, now);
      }
    }
  });
}
