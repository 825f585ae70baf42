import type { Kysely } from 'kysely';
import type { MigrationContext } from './context.ts';

/**
 * The delivery log: each attempt also records the notification's kind, its channel's
 * dialect, a class of what went wrong, a bounded excerpt of a failed answer, when the next
 * try is due and why it was sent (a replay, a test). A replayed or test notification is a
 * row of its own; `replay_of` names the notification a replay repeats (its id goes on the
 * wire), `purpose` says which.
 *
 * Attempts are written on the delivery hot path, so only the reads the log adds get an
 * index: one notification's attempts. A channel's attempts by time use `attempts_channel_at`.
 * Operator tokens are stored hashed, like access tokens.
 */
export async function up(db: Kysely<unknown>, _ctx: MigrationContext): Promise<void> {
  const attempts = () => db.schema.alterTable('attempts');
  await attempts().addColumn('kind', 'text').execute();
  await attempts().addColumn('dialect', 'text').execute();
  await attempts().addColumn('error_class', 'text').execute();
  await attempts().addColumn('response_excerpt', 'text').execute();
  await attempts().addColumn('next_retry_at', 'bigint').execute();
  await attempts().addColumn('purpose', 'text').execute();
  await db.schema
    .createIndex('attempts_notification')
    .on('attempts')
    .columns(['notification_id', 'at'])
    .execute();

  await db.schema.alterTable('notifications').addColumn('replay_of', 'bigint').execute();
  await db.schema.alterTable('notifications').addColumn('purpose', 'text').execute();

  await db.schema
    .createTable('admin_tokens')
    .addColumn('token_hash', 'text', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();
}
