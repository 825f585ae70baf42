import type { Executor } from '../store/schema.ts';
import type { ChangeFact } from '../domain/change.ts';
import type { Dialects, PlannedNotification } from '../domain/dialect.ts';
import { appendChange } from '../store/change-append.ts';
import { enqueue } from '../store/outbox.ts';
import { holdChannels } from '../store/channel-locks.ts';
import { chunks } from '../store/list-lengths.ts';
import { serializeAccountChanges } from '../store/account-lock.ts';
import { parseStoredInterest } from '../store/stored-interest.ts';

export interface Change extends ChangeFact {
  readonly accountId: string;
  readonly resourceId: string;
}

/** The channels one planned notification goes to, with the heads they have on the wire. */
interface PlannedGroup {
  readonly dialect: string;
  readonly plan: PlannedNotification;
  readonly channelIds: string[];
  readonly heads: number[];
}

/**
 * Groups in a fixed order, whatever order the channels were read in: by the dialects'
 * registration, then by kind. Notifications are sent oldest first, so this is also the
 * order receivers of different dialects hear of one change in.
 */
function inFixedOrder(dialects: Dialects, groups: Iterable<PlannedGroup>): PlannedGroup[] {
  const rank = [...dialects.keys()];
  return [...groups].sort(
    (a, b) =>
      rank.indexOf(a.dialect) - rank.indexOf(b.dialect) ||
      (a.plan.kind < b.plan.kind ? -1 : a.plan.kind > b.plan.kind ? 1 : 0),
  );
}

/**
 * Appends a change and queues the notifications it causes, in the caller's transaction: a
 * change and its notifications commit together or not at all (transactional outbox). Each
 * live channel's dialect says which notification, if any, the change means for it.
 * Returns the change's sequence number, which every incremental read is built on.
 * `sendWithChange` is handed that number as soon as it is known, for the caller's own
 * statements that need nothing else (the changed row's write): sent then, ahead of the
 * queueing (`sentAhead`), they go out with its first statement on PostgreSQL.
 */
export async function recordChange(
  trx: Executor,
  dialects: Dialects,
  change: Change,
  now: number,
  sendWithChange?: (seq: number) => void,
): Promise<number> {
  await serializeAccountChanges(trx, change.accountId);
  const { seq, channels } = await appendChange(trx, {
    account_id: change.accountId,
    resource: change.resource,
    calendar_id: change.calendarId,
    resource_id: change.resourceId,
    at: now,
  });
  sendWithChange?.(seq);
  // Dialects hand back one plan object per kind of notification, so plans group by identity.
  const groups = new Map<PlannedNotification, PlannedGroup>();
  for (const channel of channels) {
    const plan = dialects
      .get(channel.dialect)
      ?.planFor(parseStoredInterest(channel.interest_json), change);
    if (!plan) continue;
    let group = groups.get(plan);
    if (!group) {
      groups.set(plan, (group = { dialect: channel.dialect, plan, channelIds: [], heads: [] }));
    }
    group.channelIds.push(channel.id);
    if (channel.sending_id !== null) group.heads.push(channel.sending_id);
  }
  const queue = async ({ plan, channelIds, heads }: PlannedGroup) =>
    enqueue(
      trx,
      channelIds,
      plan.kind,
      now,
      plan.withChangeTime ? now : null,
      heads,
      plan.withLatestSeq ? seq : undefined,
    );
  if (groups.size === 1) {
    for (const group of groups.values()) await queue(group);
    return seq;
  }
  // Each group's enqueue locks its own channels in id order; several groups together would
  // interleave those orders, so every channel they touch is locked first in one ordered pass
  // (a deadlock with a writer that locks them in id order otherwise).
  const touched = [...groups.values()].flatMap((g) => g.channelIds).sort();
  for (const ids of chunks(touched)) await holdChannels(trx, ids);
  for (const group of inFixedOrder(dialects, groups.values())) await queue(group);
  return seq;
}
