import type { CoreResources } from './resources.ts';
import type { ChannelView } from './channels.ts';
import type { LogScope } from './delivery-log.ts';
import type { QueuedMark } from '../store/replays.ts';
import { channelOfNotification } from './delivery-log.ts';
import { notificationIdText } from '../domain/delivery.ts';
import { CoreError } from './errors.ts';
import { DEFAULT_CHANNELS_PER_ACCOUNT, requireRoom } from './channels.ts';
import { queueMarked, reopenChannel } from '../store/replays.ts';
import { failedNotificationIds } from '../store/delivery-log.ts';
import { closedForFailures } from '../domain/attempt-log.ts';
import { prepared } from '../store/prepared.ts';
import { holdChannels } from '../store/channel-locks.ts';
import { chunks, padToPowerOfTwo } from '../store/list-lengths.ts';

const notificationsById = prepared((db, ids: number[]) =>
  db
    .selectFrom('notifications')
    .select(['id', 'kind', 'changes_since', 'state'])
    .where('id', 'in', ids),
);

/** Most notifications one replay of a channel's failures queues. */
export const MAX_REPLAYED = 1000;

/** A notification queued again: the id it goes out under, and the row that carries it. */
export interface Replayed {
  /** The id sent (`Calpush-Notification-Id`): the original's. */
  readonly notificationId: string;
  /** The queued row: the replay's own, or one already queued it merged into. */
  readonly queuedAs: string;
  readonly merged: boolean;
}

function requireActive(channel: Pick<ChannelView, 'state' | 'publicId'>): void {
  if (channel.state !== 'active') {
    throw new CoreError('conflict', `channel ${channel.publicId} is closed; reactivate it first`, {
      field: 'channel_id',
    });
  }
}

async function activeChannelRow(res: CoreResources, channelId: string) {
  const row = await res.db
    .selectFrom('channels')
    .select(['id', 'public_id', 'state'])
    .where('id', '=', channelId)
    .executeTakeFirstOrThrow();
  requireActive({ state: row.state as ChannelView['state'], publicId: row.public_id });
  return row;
}

function replayedOf(original: number, mark: QueuedMark): Replayed {
  return {
    notificationId: notificationIdText(original),
    queuedAs: notificationIdText(mark.notificationId),
    merged: mark.merged,
  };
}

/**
 * Sends a notification again, under its own id and marked as a replay (`Calpush-Replay`).
 * It must have left the queue (delivered, or given up on) and its channel must be active.
 */
export async function replayNotification(
  res: CoreResources,
  notificationId: number,
  scope: LogScope,
): Promise<Replayed> {
  const channelId = await channelOfNotification(res, notificationId, scope);
  await activeChannelRow(res, channelId);
  const now = res.clock.now();
  const mark = await res.write(async (trx) => {
    const original = await trx
      .selectFrom('notifications')
      .select(['id', 'kind', 'changes_since', 'state', 'replay_of'])
      .where('id', '=', notificationId)
      .executeTakeFirst();
    if (!original) {
      throw new CoreError('gone', `${notificationIdText(notificationId)} is past retention`, {
        field: 'notification_id',
      });
    }
    if (original.state === 'pending' || original.state === 'sending') {
      throw new CoreError('conflict', `${notificationIdText(notificationId)} is still queued`, {
        field: 'notification_id',
      });
    }
    return queueMarked(trx, {
      channelId,
      kind: original.kind,
      changesSince: original.changes_since === null ? null : Number(original.changes_since),
      purpose: 'replay',
      replayOf: original.replay_of === null ? notificationId : Number(original.replay_of),
      now,
    });
  });
  res.notifyQueued();
  return replayedOf(notificationId, mark);
}

/**
 * Replays every notification of an active channel that failed since `since` and was not
 * delivered afterwards (its attempts in the log say so), oldest first.
 */
export async function replayFailedSince(
  res: CoreResources,
  channel: ChannelView,
  since: number,
): Promise<Replayed[]> {
  requireActive(channel);
  const ids = await failedNotificationIds(res.db, channel.id, since, MAX_REPLAYED);
  const now = res.clock.now();
  const replayed = await res.write(async (trx) => {
    // Read under the channel's lock, as the queueing below takes it anyway: a retry of one of
    // them that ends meanwhile is then either seen as delivered or waits for this write.
    await holdChannels(trx, [channel.id]);
    const originals = new Map<
      number,
      { kind: string; changes_since: number | null; state: string }
    >();
    for (const chunk of chunks(ids)) {
      for (const row of (await notificationsById(trx, padToPowerOfTwo(chunk))).rows) {
        originals.set(Number(row.id), row);
      }
    }
    const out: Replayed[] = [];
    for (const id of ids) {
      const original = originals.get(id);
      // Past retention, or still queued (it is being retried): nothing to send again.
      if (!original || original.state === 'pending' || original.state === 'sending') continue;
      const mark = await queueMarked(trx, {
        channelId: channel.id,
        kind: original.kind,
        changesSince: original.changes_since === null ? null : Number(original.changes_since),
        purpose: 'replay',
        replayOf: id,
        now,
      });
      out.push(replayedOf(id, mark));
    }
    return out;
  });
  if (replayed.length > 0) res.notifyQueued();
  return replayed;
}

/**
 * Opens a channel closed for failures again and queues its dialect's first message (a
 * Cronofy verification, a Google sync), so the receiver hears it is live before any change.
 */
export async function reactivateChannel(res: CoreResources, channel: ChannelView): Promise<void> {
  if (channel.state === 'active') {
    throw new CoreError('conflict', `channel ${channel.publicId} is not closed`, {
      field: 'channel_id',
    });
  }
  if (!closedForFailures(channel.closedReason)) {
    throw new CoreError(
      'conflict',
      `channel ${channel.publicId} was closed for another reason (${channel.closedReason ?? 'unknown'}); only a channel closed for delivery failures can be reactivated`,
      { field: 'channel_id' },
    );
  }
  const now = res.clock.now();
  if (channel.expiresAt !== null && channel.expiresAt <= now) {
    throw new CoreError('gone', `channel ${channel.publicId} has expired`, { field: 'channel_id' });
  }
  const dialect = res.dialects.get(channel.dialect);
  if (!dialect) throw new Error(`no dialect ${channel.dialect} is registered`);
  await res.write(async (trx) => {
    const clash = await trx
      .selectFrom('channels')
      .select('id')
      .where('client_id', '=', channel.clientId)
      .where('public_id', '=', channel.publicId)
      .where('state', '=', 'active')
      .executeTakeFirst();
    if (clash) {
      throw new CoreError('conflict', `a live channel already has the id ${channel.publicId}`, {
        field: 'channel_id',
      });
    }
    // A closed channel freed its room: reopening takes one again, within the same limit.
    await requireRoom(trx, {
      accountId: channel.accountId,
      dialect: channel.dialect,
      maxPerAccount: res.channelsPerAccount ?? DEFAULT_CHANNELS_PER_ACCOUNT,
      callback: { field: 'channel_id' },
    });
    if (!(await reopenChannel(trx, channel.id, dialect.firstMessage, now))) {
      throw new CoreError('conflict', `channel ${channel.publicId} is not closed`, {
        field: 'channel_id',
      });
    }
  });
  res.notifyQueued();
}

/**
 * Queues a signed test notification for an active channel, due now, marked `Calpush-Test`:
 * its dialect's first message (a Cronofy verification, a Google sync), which a receiver
 * already handles without reading any data.
 */
export async function sendTestNotification(
  res: CoreResources,
  channel: ChannelView,
): Promise<Replayed> {
  requireActive(channel);
  const kind = res.dialects.get(channel.dialect)?.firstMessage ?? null;
  if (kind === null) {
    throw new CoreError('invalid', `a ${channel.dialect} channel has no test message`, {
      field: 'channel_id',
    });
  }
  const now = res.clock.now();
  const mark = await res.write((trx) =>
    queueMarked(trx, {
      channelId: channel.id,
      kind,
      changesSince: null,
      purpose: 'test',
      replayOf: null,
      now,
    }),
  );
  res.notifyQueued();
  return replayedOf(mark.notificationId, mark);
}
