import type { Executor } from './schema.ts';
import { holdChannels } from './channel-locks.ts';
import { PENDING } from './live-notifications.ts';
import { ACTIVE, ACTIVE_AND_IDLE } from './channel-states.ts';
import { enqueue, lockAndSetAsideHeads } from './outbox.ts';
import type { NotificationPurpose } from '../domain/attempt-log.ts';

/** A notification queued again (a replay) or for a test. */
export interface MarkedNotification {
  readonly channelId: string;
  readonly kind: string;
  readonly changesSince: number | null;
  readonly purpose: NotificationPurpose;
  /** The replayed notification: its id goes on the wire. */
  readonly replayOf: number | null;
  readonly now: number;
}

/** Where a marked notification went: a row of its own, or merged into one already queued. */
export interface QueuedMark {
  readonly notificationId: number;
  readonly merged: boolean;
}

/**
 * Queues a replayed or test notification for an active channel, due now, in the caller's
 * transaction. A channel never has two notifications of a kind pending (coalescing): when
 * one is, the replay merges into it (its `changes_since` moves back to cover the replay's)
 * and that one is returned. A head on the wire is set aside first, as a change's enqueue
 * does, so nothing merges into a notification the receiver may already have read.
 */
export async function queueMarked(trx: Executor, n: MarkedNotification): Promise<QueuedMark> {
  await lockAndSetAsideHeads(trx, [n.channelId], n.kind);
  const pending = await trx
    .selectFrom('notifications')
    .select(['id', 'changes_since'])
    .where('channel_id', '=', n.channelId)
    .where('kind', '=', n.kind)
    .where('state', '=', PENDING)
    .executeTakeFirst();
  if (pending) {
    const held = pending.changes_since === null ? null : Number(pending.changes_since);
    if (n.changesSince !== null && held !== null && n.changesSince < held) {
      await trx
        .updateTable('notifications')
        .set({ changes_since: n.changesSince })
        .where('id', '=', pending.id)
        .execute();
    }
    return { notificationId: Number(pending.id), merged: true };
  }
  const inserted = await trx
    .insertInto('notifications')
    .values({
      channel_id: n.channelId,
      kind: n.kind,
      state: 'pending',
      changes_since: n.changesSince,
      created_at: n.now,
      due_at: n.now,
      attempts: 0,
      delivered_at: null,
      replay_of: n.replayOf,
      purpose: n.purpose,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  // An idle channel is due at once; a busy one sends it after what is queued before it.
  await trx
    .updateTable('channels')
    .set({ queue_due_at: n.now })
    .where('id', '=', n.channelId)
    .where('state', '=', ACTIVE)
    .where('queue_due_at', 'is', null)
    .execute();
  return { notificationId: Number(inserted.id), merged: false };
}

/**
 * Opens a closed channel again, healthy, and queues `firstMessage` (its dialect's
 * verification or sync), in the caller's transaction. False when it was not closed.
 */
export async function reopenChannel(
  trx: Executor,
  channelId: string,
  firstMessage: string | null,
  now: number,
): Promise<boolean> {
  await holdChannels(trx, [channelId]);
  const reopened = await trx
    .updateTable('channels')
    .set(ACTIVE_AND_IDLE)
    .where('id', '=', channelId)
    .where('state', '=', 'closed')
    .executeTakeFirst();
  if (Number(reopened.numUpdatedRows) === 0) return false;
  if (firstMessage !== null) await enqueue(trx, [channelId], firstMessage, now, null, []);
  return true;
}
