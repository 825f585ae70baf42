import { sql } from 'kysely';
import type { Selectable } from 'kysely';
import type { AttemptsTable, Executor } from './schema.ts';
import { boundLimit } from './bound-limit.ts';
import { liveState } from './live-notifications.ts';

/** One row of the delivery log. */
export type AttemptRow = Selectable<AttemptsTable>;

/** Where a page of the log continues: just before this attempt (newest first). */
export interface AttemptCursor {
  readonly at: number;
  readonly id: number;
}

/** Which attempts to read; every condition given must hold. */
export interface AttemptFilter {
  /** The attempts of these channels (an empty list matches nothing). */
  readonly channelIds?: readonly string[];
  /** The attempts of one notification (a replay's are logged under its original's id). */
  readonly notificationId?: number;
  /** Delivered attempts, or every other decision (retry, close, drop). */
  readonly outcome?: 'delivered' | 'failed';
  /** `at` on or after this time. */
  readonly from?: number;
  /** `at` before this time. */
  readonly to?: number;
  readonly after?: AttemptCursor;
  readonly limit: number;
}

/**
 * A page of the delivery log, newest first. By channel it reads `attempts_channel_at`, by
 * notification `attempts_notification`; neither is on the delivery hot path's reads.
 */
export async function readAttempts(db: Executor, filter: AttemptFilter): Promise<AttemptRow[]> {
  if (filter.channelIds?.length === 0) return [];
  let query = db.selectFrom('attempts').selectAll();
  if (filter.channelIds) {
    const ids = [...filter.channelIds];
    query =
      ids.length === 1
        ? query.where('channel_id', '=', ids[0] ?? '')
        : query.where('channel_id', 'in', ids);
  }
  if (filter.notificationId !== undefined) {
    query = query.where('notification_id', '=', filter.notificationId);
  }
  if (filter.outcome === 'delivered') query = query.where('decision', '=', 'delivered');
  if (filter.outcome === 'failed') query = query.where('decision', '<>', 'delivered');
  if (filter.from !== undefined) query = query.where('at', '>=', filter.from);
  if (filter.to !== undefined) query = query.where('at', '<', filter.to);
  const after = filter.after;
  if (after) {
    query = query.where((eb) =>
      eb.or([eb('at', '<', after.at), eb.and([eb('at', '=', after.at), eb('id', '<', after.id)])]),
    );
  }
  return query
    .orderBy('at', 'desc')
    .orderBy('id', 'desc')
    .limit(boundLimit(filter.limit))
    .execute();
}

/** What the log says of a channel's recent deliveries. */
export interface ChannelDeliveryFacts {
  readonly lastSuccessAt: number | null;
  readonly lastAttemptAt: number | null;
  /** Failed attempts since the last delivered one. */
  readonly failureStreak: number;
  /** Notifications still in the channel's queue. */
  readonly queued: number;
}

export async function channelDeliveryFacts(
  db: Executor,
  channelId: string,
): Promise<ChannelDeliveryFacts> {
  const last = await db
    .selectFrom('attempts')
    .select((eb) => eb.fn.max('at').as('at'))
    .where('channel_id', '=', channelId)
    .executeTakeFirst();
  const success = await db
    .selectFrom('attempts')
    .select((eb) => [eb.fn.max('at').as('at'), eb.fn.max('id').as('id')])
    .where('channel_id', '=', channelId)
    .where('decision', '=', 'delivered')
    .executeTakeFirst();
  const lastSuccessAt = success?.at == null ? null : Number(success.at);
  // By id, not time: attempts in the same millisecond still count in the order written.
  let streak = db
    .selectFrom('attempts')
    .select((eb) => eb.fn.countAll<number>().as('count'))
    .where('channel_id', '=', channelId)
    .where('decision', '<>', 'delivered');
  if (success?.id != null) streak = streak.where('id', '>', Number(success.id));
  const failures = await streak.executeTakeFirstOrThrow();
  const queued = await db
    .selectFrom('notifications')
    .select((eb) => eb.fn.countAll<number>().as('count'))
    .where('channel_id', '=', channelId)
    .where(liveState)
    .executeTakeFirstOrThrow();
  return {
    lastSuccessAt,
    lastAttemptAt: last?.at == null ? null : Number(last.at),
    failureStreak: Number(failures.count),
    queued: Number(queued.count),
  };
}

/**
 * Notifications of a channel that failed since `since` and were not delivered after: each
 * had a failed attempt then and none delivered since. Their original ids, oldest first.
 */
export async function failedNotificationIds(
  db: Executor,
  channelId: string,
  since: number,
  limit: number,
): Promise<number[]> {
  const rows = await db
    .selectFrom('attempts as a')
    .select('a.notification_id')
    .distinct()
    .where('a.channel_id', '=', channelId)
    .where('a.at', '>=', since)
    .where('a.decision', '<>', 'delivered')
    .where((eb) =>
      eb.not(
        eb.exists(
          eb
            .selectFrom('attempts as d')
            .select(sql.lit(1).as('one'))
            .whereRef('d.notification_id', '=', 'a.notification_id')
            .whereRef('d.channel_id', '=', 'a.channel_id')
            .where('d.decision', '=', 'delivered')
            .whereRef('d.at', '>=', 'a.at'),
        ),
      ),
    )
    .orderBy('a.notification_id')
    .limit(boundLimit(limit))
    .execute();
  return rows.map((r) => Number(r.notification_id));
}

/** Channels whose callback goes to this host (any scheme and port), newest first. */
export async function channelIdsByHost(
  db: Executor,
  host: string,
  limit: number,
): Promise<string[]> {
  const lower = host.toLowerCase();
  const rows = await db
    .selectFrom('channels')
    .select('id')
    .where((eb) =>
      eb.or([
        eb('origin', 'like', `%://${escapeLike(lower)}`),
        eb('origin', 'like', `%://${escapeLike(lower)}:%`),
      ]),
    )
    .orderBy('created_at', 'desc')
    .limit(boundLimit(limit))
    .execute();
  return rows.map((r) => r.id);
}

/** `%` and `_` in a host name are taken literally (neither occurs in a valid one anyway). */
function escapeLike(text: string): string {
  return text.replace(/[%_\\]/g, '');
}
