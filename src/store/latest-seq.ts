import { sql } from 'kysely';
import type { Executor } from './schema.ts';
import { PENDING, SENDING, liveState } from './live-notifications.ts';

/**
 * Before a notification going back to the queue swallows the pending ones of its kind that
 * were queued behind it (coalescing after a failed or handed-back attempt), it takes their
 * highest `latest_seq`: it now covers their changes, so it must name the latest version.
 * `survivors`: the rows going back by id, or every row set aside (`sending`).
 */
export async function carryLatestSeq(
  trx: Executor,
  survivors: readonly number[] | 'set-aside',
): Promise<void> {
  if (survivors !== 'set-aside' && survivors.length === 0) return;
  let update = trx
    .updateTable('notifications')
    .set((eb) => ({
      latest_seq: eb
        .selectFrom('notifications as p')
        .select((p) => p.fn.max('p.latest_seq').as('latest'))
        .whereRef('p.channel_id', '=', 'notifications.channel_id')
        .whereRef('p.kind', '=', 'notifications.kind')
        .where('p.state', '=', PENDING),
    }))
    .where(liveState)
    .where((eb) =>
      eb.exists(
        eb
          .selectFrom('notifications as p')
          .select(sql.lit(1).as('one'))
          .whereRef('p.channel_id', '=', 'notifications.channel_id')
          .whereRef('p.kind', '=', 'notifications.kind')
          .where('p.state', '=', PENDING)
          .where(
            'p.latest_seq',
            '>',
            sql<number>`coalesce(${sql.ref('notifications.latest_seq')}, -1)`,
          ),
      ),
    );
  update =
    survivors === 'set-aside'
      ? update.where('state', '=', SENDING)
      : update.where('id', 'in', [...survivors]);
  await update.execute();
}
