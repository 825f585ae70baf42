import type { Db } from './schema.ts';

export interface RetentionPolicy {
  /** Delivered and cancelled notifications, and attempts, older than this are removed. */
  readonly keepMs: number;
  /** Rows removed per table per pass, so a pass never holds the store for long. */
  readonly batch: number;
}

export const defaultRetention: RetentionPolicy = {
  keepMs: 7 * 24 * 60 * 60 * 1000,
  batch: 5_000,
};

/**
 * Removes delivery history past its retention: finished notifications and the attempt log.
 * Pending work is never touched. Returns how many rows went, for the log.
 */
export async function pruneHistory(
  db: Db,
  now: number,
  policy: RetentionPolicy = defaultRetention,
): Promise<{ notifications: number; attempts: number }> {
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
  return {
    notifications: Number(notifications.numDeletedRows),
    attempts: Number(attempts.numDeletedRows),
  };
}
