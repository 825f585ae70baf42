import type { Db } from './schema.ts';

export interface RetentionPolicy {
  /** Delivered and cancelled notifications, attempts and changes older than this go. */
  readonly keepMs: number;
  /** Rows removed per table per pass, so a pass never holds the store for long. */
  readonly batch: number;
}

export const defaultRetention: RetentionPolicy = {
  keepMs: 7 * 24 * 60 * 60 * 1000,
  batch: 5_000,
};

/**
 * Removes history past its retention: finished notifications, the attempt log and old
 * change-log entries. Pending work is never touched. Returns how many rows went, for the log.
 */
export async function pruneHistory(
  db: Db,
  now: number,
  policy: RetentionPolicy = defaultRetention,
): Promise<{ notifications: number; attempts: number; changes: number }> {
  const before = now - policy.keepMs;
  const attempts = await db
    .deleteFrom('attempts')
    .where(
      'id',
      'in',
      db.selectFrom('attempts').select('id').where('at', '<', before).limit(policy.batch),
    )
    .executeTakeFirst();
  const notifications = await db
    .deleteFrom('notifications')
    .where(
      'id',
      'in',
      db
        .selectFrom('notifications')
        .select('id')
        .where('state', 'in', ['delivered', 'cancelled'])
        .where('created_at', '<', before)
        .limit(policy.batch),
    )
    .executeTakeFirst();
  // The change log keeps each account's newest entry: it is where the next sync token
  // starts, however old.
  const changes = await db
    .deleteFrom('changes')
    .where(
      'seq',
      'in',
      db
        .selectFrom('changes as c')
        .select('c.seq')
        .where('c.at', '<', before)
        .where((eb) =>
          eb.exists(
            eb
              .selectFrom('changes as newer')
              .select('newer.seq')
              .whereRef('newer.account_id', '=', 'c.account_id')
              .whereRef('newer.seq', '>', 'c.seq'),
          ),
        )
        .limit(policy.batch),
    )
    .executeTakeFirst();
  return {
    notifications: Number(notifications.numDeletedRows),
    attempts: Number(attempts.numDeletedRows),
    changes: Number(changes.numDeletedRows),
  };
}
