import type { Delivery } from '../domain/delivery.ts';
import type { BatchRule } from '../domain/dialect.ts';

/**
 * Deliveries of a dialect that batches across channels, claimed together and going to the
 * same address (the dialect's key), become one request of at most the dialect's size in
 * notifications: the first carries the others `alongside`. Everything else, replays and
 * tests included, goes as it came.
 */
export function shareRequests(
  deliveries: readonly Delivery[],
  batching: ReadonlyMap<string, BatchRule>,
): Delivery[] {
  if (batching.size === 0) return [...deliveries];
  const out: Delivery[] = [];
  const open = new Map<string, { lead: Delivery; others: Delivery[]; size: number }>();
  const close = (key: string) => {
    const group = open.get(key);
    if (!group) return;
    open.delete(key);
    out.push(group.others.length > 0 ? { ...group.lead, alongside: group.others } : group.lead);
  };
  for (const d of deliveries) {
    const rule = batching.get(d.channel.dialect);
    // A replay or test notification is not shared: the request's marks are its lead's.
    const key = d.purpose ? null : (rule?.acrossChannels?.(d) ?? null);
    if (!rule || key === null) {
      out.push(d);
      continue;
    }
    const groupKey = `${d.channel.dialect}\n${key}`;
    const count = 1 + (d.batched?.length ?? 0);
    const group = open.get(groupKey);
    if (group && group.size + count <= rule.size) {
      group.others.push(d);
      group.size += count;
      continue;
    }
    close(groupKey);
    open.set(groupKey, { lead: d, others: [], size: count });
  }
  for (const key of [...open.keys()]) close(key);
  return out;
}
