import type { Db, Executor } from '../schema.ts';
import type { Delivery } from '../../domain/delivery.ts';
import { holdChannels } from '../channel-locks.ts';
import { PENDING, SENDING, liveState } from '../live-notifications.ts';
import { carryLatestSeq } from '../latest-seq.ts';
import { inTransaction } from '../transaction.ts';
import { chunks } from '../list-lengths.ts';
import { byLease, headDueAt, stillHeld } from './heads-and-leases.ts';

/**
 * Puts heads that were claimed but not sent back in the queue. A change queued behind one in
 * the meantime merges into it, as after a failed attempt. With no ids, every head that was
 * set aside for such a change (heads nothing queued behind are still pending).
 */
async function requeueSending(
  trx: Executor,
  notificationIds?: readonly number[],
  naming?: readonly number[],
): Promise<void> {
  // Driven from the heads going back, so only their channels' queues are read.
  let sending = trx
    .selectFrom('notifications')
    .select(['channel_id', 'kind'])
    .where(liveState)
    .where('state', '=', SENDING);
  if (notificationIds) sending = sending.where('id', 'in', [...notificationIds]);
  const merged = trx
    .deleteFrom('notifications')
    .where('state', '=', PENDING)
    .where((eb) =>
      eb(eb.refTuple('channel_id', 'kind'), 'in', sending.$asTuple('channel_id', 'kind')),
    );
  let requeue = trx
    .updateTable('notifications')
    .set({ state: 'pending' })
    .where(liveState)
    .where('state', '=', SENDING);
  if (notificationIds) requeue = requeue.where('id', 'in', [...notificationIds]);
  // Only notifications that name their latest change have one to carry.
  await carryLatestSeq(trx, naming ?? 'set-aside');
  await merged.execute();
  await requeue.execute();
}

/**
 * Hands back claims the dispatcher cannot send now (their origin has no free slot): the
 * channels are free to be claimed again at once, and no claimed work waits in memory where a
 * close could not reach it or its lease could run out.
 */
export async function releaseClaims(db: Db, deliveries: readonly Delivery[]): Promise<void> {
  if (deliveries.length === 0) return;
  await inTransaction(db, async (trx) => {
    await holdChannels(trx, [...new Set(deliveries.map((d) => d.channel.id))].sort());
    for (const batch of chunks(deliveries)) {
      for (const [leaseUntil, leased] of byLease(batch, (d) => d.leaseUntil)) {
        // Only claims still holding their lease: a channel taken over since is the new
        // holder's, with whatever was queued behind its head.
        const back = await stillHeld(trx, leased, leaseUntil, (d) => d.channel.id);
        if (back.length === 0) continue;
        await requeueSending(
          trx,
          back.flatMap((d) => [
            d.notificationId,
            ...(d.batched ?? []).map((b) => b.notificationId),
          ]),
          back.flatMap((d) => [
            ...(d.latestSeq == null ? [] : [d.notificationId]),
            ...(d.batched ?? []).filter((b) => b.latestSeq != null).map((b) => b.notificationId),
          ]),
        );
        await trx
          .updateTable('channels')
          .set({ lease_until: null, sending_id: null, queue_due_at: headDueAt })
          .where(
            'id',
            'in',
            back.map((d) => d.channel.id),
          )
          .where('lease_until', '=', leaseUntil)
          .execute();
      }
    }
  });
}

/**
 * After a crash nobody holds a lease: a single-node store frees them all at start. A leased
 * channel is always due (at its lease's end), so the due index finds them: read through the
 * table, a large idle store would fill the page cache with channel rows at every start.
 */
export async function releaseAllLeases(db: Db): Promise<void> {
  await inTransaction(db, async (trx) => {
    await requeueSending(trx);
    await trx
      .updateTable('channels')
      .set({ lease_until: null, sending_id: null, queue_due_at: headDueAt })
      .where('queue_due_at', 'is not', null)
      .where('lease_until', 'is not', null)
      .execute();
  });
}
