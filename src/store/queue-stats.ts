import { sql } from 'kysely';
import type { Executor } from './schema.ts';
import { liveState } from './live-notifications.ts';
import { boundLimit } from './bound-limit.ts';

/**
 * Rows counted at most per figure. A scrape every few seconds must not walk a table whose
 * size it does not know: past this, the figure reads as the cap, which is alarm enough.
 */
export const STATS_ROW_CAP = 100_000;

export interface QueueStats {
  /** Notifications still to send (queued or on the wire), up to STATS_ROW_CAP. */
  readonly depth: number;
  /** How long the channel waiting longest past its due time has waited; 0 if none is due. */
  readonly oldestDueAgeMs: number;
}

/** What the delivery queue holds now, read through its indexes. */
export async function queueStats(db: Executor, now: number): Promise<QueueStats> {
  const live = db
    .selectFrom('notifications')
    .select(sql.lit(1).as('one'))
    .where(liveState)
    .limit(boundLimit(STATS_ROW_CAP))
    .as('live');
  const depth = await db
    .selectFrom(live)
    .select((eb) => eb.fn.countAll<number | string>().as('n'))
    .executeTakeFirst();
  // The due index's head: a leased channel's due time is its lease's end, so channels on
  // the wire are not counted as waiting, and a channel backing off is not due yet.
  const oldest = await db
    .selectFrom('channels')
    .select((eb) => eb.fn.min('queue_due_at').as('at'))
    .where('queue_due_at', 'is not', null)
    .executeTakeFirst();
  const at = oldest?.at === null || oldest?.at === undefined ? null : Number(oldest.at);
  return {
    depth: Number(depth?.n ?? 0),
    oldestDueAgeMs: at === null || at > now ? 0 : now - at,
  };
}

/**
 * Channels by state, with active channels in a failure streak apart (`failing`), counted
 * over at most STATS_ROW_CAP × 10 channels.
 */
export async function channelsByState(db: Executor): Promise<Map<string, number>> {
  const stateOf = sql<string>`case when state = 'active' and failing_since is not null
    then 'failing' else state end`;
  const some = db
    .selectFrom('channels')
    .select(stateOf.as('state'))
    .limit(boundLimit(STATS_ROW_CAP * 10))
    .as('some');
  const rows = await db
    .selectFrom(some)
    .select(['state', (eb) => eb.fn.countAll<number | string>().as('n')])
    .groupBy('state')
    .execute();
  return new Map(rows.map((r) => [r.state, Number(r.n)]));
}
