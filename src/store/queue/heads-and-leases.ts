import { sql } from 'kysely';
import type { Executor } from '../schema.ts';
import { liveStateOf } from '../live-notifications.ts';

/*
 * What the queue's claim, completion and release share: a channel's head notification, as
 * subqueries of set-based updates of `channels`, and the lease a claim took.
 */

/** A channel's head notification (its oldest pending one), as `n`, for set-based updates. */
const pendingHead = sql`from notifications n
  where n.channel_id = channels.id and ${liveStateOf('n')} and n.state = 'pending'
  order by n.id limit 1`;

/** Due time of a channel's head notification; null when nothing is queued. */
export const headDueAt = sql<number | null>`(select n.due_at ${pendingHead})`;

/** Due time of a channel's head notification, but not before `notBefore`. */
export function headDueNotBefore(notBefore: number) {
  return sql<number | null>`(select
  case when n.due_at < ${notBefore} then ${notBefore} else n.due_at end ${pendingHead})`;
}

/** Of items claimed under `leaseUntil`, those whose channel still holds that lease. */
export async function stillHeld<T>(
  trx: Executor,
  items: readonly T[],
  leaseUntil: number,
  channelOf: (item: T) => string,
): Promise<T[]> {
  const held = await trx
    .selectFrom('channels')
    .select('id')
    .where('id', 'in', items.map(channelOf))
    .where('lease_until', '=', leaseUntil)
    .execute();
  const ids = new Set(held.map((r) => r.id));
  return items.filter((item) => ids.has(channelOf(item)));
}

/**
 * Items grouped by the lease their claim took: a channel is released only by the holder of
 * its current lease, never by a send whose lease ran out and was taken over.
 */
export function byLease<T>(items: readonly T[], leaseOf: (item: T) => number): Map<number, T[]> {
  const groups = new Map<number, T[]>();
  for (const item of items) {
    const group = groups.get(leaseOf(item)) ?? [];
    group.push(item);
    groups.set(leaseOf(item), group);
  }
  return groups;
}
