import { sql } from 'kysely';
import type { Executor } from './schema.ts';
import type { NotificationKind } from '../domain/notification.ts';
import { ACTIVE } from './channel-states.ts';
import { boundLimit } from './bound-limit.ts';
import { parseStoredInterest } from './stored-interest.ts';
import { enqueue } from './outbox.ts';

export interface ExpiryNotice {
  readonly dialect: string;
  readonly beforeMs: number;
  readonly kind: NotificationKind;
  readonly applies: (interest: unknown) => boolean;
}

/**
 * Queues a dialect's expiry notice for its live channels whose lifetime ends within
 * `beforeMs`, unless one was queued since that point (a renewal moves the point later, so
 * a renewed channel is told again before its new end). Returns how many were queued.
 */
export async function queueExpiryNotices(
  trx: Executor,
  notice: ExpiryNotice,
  now: number,
): Promise<number> {
  const due = await trx
    .selectFrom('channels as c')
    .select(['c.id', 'c.interest_json'])
    .where('c.state', '=', ACTIVE)
    .where('c.dialect', '=', notice.dialect)
    .where('c.expires_at', '>', now)
    .where('c.expires_at', '<=', now + notice.beforeMs)
    .where((eb) =>
      eb.not(
        eb.exists(
          eb
            .selectFrom('notifications as n')
            .select(sql.lit(1).as('told'))
            .whereRef('n.channel_id', '=', 'c.id')
            .where('n.kind', '=', notice.kind)
            .where(sql<boolean>`n.created_at >= c.expires_at - ${notice.beforeMs}`),
        ),
      ),
    )
    .limit(boundLimit(1000))
    .execute();
  const ids = due
    .filter((c) => notice.applies(parseStoredInterest(c.interest_json)))
    .map((c) => c.id);
  if (ids.length > 0) await enqueue(trx, ids, notice.kind, now);
  return ids.length;
}
