import type { Executor } from './schema.ts';
import { holdChannels } from './channel-locks.ts';
import { cancelQueued } from './outbox.ts';
import { boundLimit } from './bound-limit.ts';
import { ACTIVE } from './channel-states.ts';

/**
 * Closes channels in the caller's transaction: everything queued for them is cancelled with
 * the close, so nothing is sent for them once it commits.
 */
export async function closeChannels(
  trx: Executor,
  channelIds: readonly string[],
  reason: string,
  now: number,
): Promise<void> {
  if (channelIds.length === 0) return;
  await holdChannels(trx, [...channelIds].sort());
  await trx
    .updateTable('channels')
    .set({
      state: 'closed',
      closed_reason: reason,
      closed_at: now,
      queue_due_at: null,
      lease_until: null,
      sending_id: null,
    })
    .where('id', 'in', channelIds)
    .where('state', '=', ACTIVE)
    .execute();
  await cancelQueued(trx, channelIds);
}

/** Channels with a lifetime stop by themselves when it ends; returns those it closed. */
export async function closeExpired(trx: Executor, now: number): Promise<string[]> {
  const expired = await trx
    .selectFrom('channels')
    .select('id')
    .where('state', '=', ACTIVE)
    .where('expires_at', '<=', now)
    .limit(boundLimit(1000))
    .execute();
  await closeChannels(
    trx,
    expired.map((c) => c.id),
    'expired',
    now,
  );
  return expired.map((c) => c.id);
}
