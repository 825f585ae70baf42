import { sql } from 'kysely';
import type { Kysely } from 'kysely';
import type { MigrationContext } from './context.ts';

export async function up(db: Kysely<unknown>, ctx: MigrationContext): Promise<void> {
  const autoId = ctx.autoId.bind(ctx);
  await db.schema
    .createTable('meta')
    .addColumn('key', 'text', (c) => c.primaryKey())
    .addColumn('value', 'text', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('clients')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();

  await autoId(db.schema.createTable('client_secrets'))
    .addColumn('client_id', 'text', (c) => c.notNull().references('clients.id'))
    .addColumn('secret', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('client_secrets_client')
    .on('client_secrets')
    .column('client_id')
    .execute();

  await db.schema
    .createTable('accounts')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('client_id', 'text', (c) => c.notNull().references('clients.id'))
    .addColumn('email', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('time_zone', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('accounts_client').on('accounts').column('client_id').execute();

  await db.schema
    .createTable('access_tokens')
    .addColumn('token_hash', 'text', (c) => c.primaryKey())
    .addColumn('account_id', 'text', (c) => c.notNull().references('accounts.id'))
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('profiles')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('account_id', 'text', (c) => c.notNull().references('accounts.id'))
    .addColumn('provider_name', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('connected', 'integer', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('profiles_account').on('profiles').column('account_id').execute();

  await db.schema
    .createTable('calendars')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('account_id', 'text', (c) => c.notNull().references('accounts.id'))
    .addColumn('profile_id', 'text', (c) => c.notNull().references('profiles.id'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('description', 'text')
    .addColumn('location', 'text')
    .addColumn('time_zone', 'text', (c) => c.notNull())
    .addColumn('color', 'text')
    .addColumn('is_primary', 'integer', (c) => c.notNull())
    .addColumn('readonly', 'integer', (c) => c.notNull())
    .addColumn('deleted', 'integer', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addColumn('change_seq', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('calendars_account_seq')
    .on('calendars')
    .columns(['account_id', 'change_seq'])
    .execute();

  await autoId(db.schema.createTable('events'))
    .addColumn('calendar_id', 'text', (c) => c.notNull().references('calendars.id'))
    .addColumn('account_id', 'text', (c) => c.notNull())
    .addColumn('uid', 'text', (c) => c.notNull())
    .addColumn('external_id', 'text')
    .addColumn('ical_uid', 'text', (c) => c.notNull())
    .addColumn('managed', 'integer', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('summary', 'text')
    .addColumn('description', 'text')
    .addColumn('location', 'text')
    .addColumn('start_json', 'text', (c) => c.notNull())
    .addColumn('end_json', 'text', (c) => c.notNull())
    .addColumn('start_at', 'bigint', (c) => c.notNull())
    .addColumn('end_at', 'bigint', (c) => c.notNull())
    .addColumn('recurrence_json', 'text')
    .addColumn('extra_json', 'text')
    .addColumn('sequence', 'integer', (c) => c.notNull())
    .addColumn('deleted', 'integer', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addColumn('change_seq', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('events_calendar_uid')
    .on('events')
    .columns(['calendar_id', 'uid'])
    .unique()
    .execute();
  await db.schema
    .createIndex('events_calendar_external')
    .on('events')
    .columns(['calendar_id', 'external_id'])
    .unique()
    .execute();
  await db.schema
    .createIndex('events_calendar_seq')
    .on('events')
    .columns(['calendar_id', 'change_seq'])
    .execute();
  await db.schema
    .createIndex('events_account_updated')
    .on('events')
    .columns(['account_id', 'updated_at'])
    .execute();
  await db.schema
    .createIndex('events_account_start')
    .on('events')
    .columns(['account_id', 'start_at'])
    .execute();

  await autoId(db.schema.createTable('changes'), 'seq')
    .addColumn('account_id', 'text', (c) => c.notNull())
    .addColumn('resource', 'text', (c) => c.notNull())
    .addColumn('calendar_id', 'text')
    .addColumn('resource_id', 'text', (c) => c.notNull())
    .addColumn('at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('changes_account_seq')
    .on('changes')
    .columns(['account_id', 'seq'])
    .execute();

  await db.schema
    .createTable('channels')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('client_id', 'text', (c) => c.notNull().references('clients.id'))
    .addColumn('account_id', 'text', (c) => c.notNull().references('accounts.id'))
    .addColumn('dialect', 'text', (c) => c.notNull())
    .addColumn('public_id', 'text', (c) => c.notNull())
    .addColumn('callback_url', 'text', (c) => c.notNull())
    .addColumn('origin', 'text', (c) => c.notNull())
    .addColumn('interest_json', 'text', (c) => c.notNull())
    .addColumn('request_key', 'text')
    .addColumn('resource_id', 'text')
    .addColumn('resource_uri', 'text')
    .addColumn('token', 'text')
    .addColumn('expires_at', 'bigint')
    .addColumn('state', 'text', (c) => c.notNull())
    .addColumn('closed_reason', 'text')
    .addColumn('closed_at', 'bigint')
    .addColumn('failing_since', 'bigint')
    .addColumn('queue_due_at', 'bigint')
    .addColumn('lease_until', 'bigint')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('channels_account_state')
    .on('channels')
    .columns(['account_id', 'state'])
    .execute();
  await db.schema
    .createIndex('channels_live_public_id')
    .on('channels')
    .columns(['client_id', 'public_id'])
    .unique()
    .where(sql.ref('state'), '=', 'active')
    .execute();
  await db.schema
    .createIndex('channels_queue_due')
    .on('channels')
    .column('queue_due_at')
    .where(sql.ref('queue_due_at'), 'is not', null)
    .execute();
  await db.schema
    .createIndex('channels_expiry')
    .on('channels')
    .column('expires_at')
    .where(sql.ref('state'), '=', 'active')
    .execute();

  await autoId(db.schema.createTable('notifications'))
    .addColumn('channel_id', 'text', (c) => c.notNull().references('channels.id'))
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('state', 'text', (c) => c.notNull())
    .addColumn('changes_since', 'bigint')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('due_at', 'bigint', (c) => c.notNull())
    .addColumn('attempts', 'integer', (c) => c.notNull())
    .addColumn('delivered_at', 'bigint')
    .execute();
  // Coalescing: at most one pending notification of a kind per channel; later changes merge.
  await db.schema
    .createIndex('notifications_coalesce')
    .on('notifications')
    .columns(['channel_id', 'kind'])
    .unique()
    .where(sql.ref('state'), '=', 'pending')
    .execute();
  await db.schema
    .createIndex('notifications_channel_queue')
    .on('notifications')
    .columns(['channel_id', 'state', 'id'])
    .execute();

  await autoId(db.schema.createTable('attempts'))
    .addColumn('notification_id', 'bigint', (c) => c.notNull())
    .addColumn('channel_id', 'text', (c) => c.notNull())
    .addColumn('at', 'bigint', (c) => c.notNull())
    .addColumn('status', 'integer')
    .addColumn('error', 'text')
    .addColumn('latency_ms', 'integer', (c) => c.notNull())
    .addColumn('decision', 'text', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('attempts_channel_at')
    .on('attempts')
    .columns(['channel_id', 'at'])
    .execute();

  await db.schema
    .createTable('acl_rules')
    .addColumn('id', 'text', (c) => c.notNull())
    .addColumn('calendar_id', 'text', (c) => c.notNull().references('calendars.id'))
    .addColumn('role', 'text', (c) => c.notNull())
    .addColumn('scope_type', 'text', (c) => c.notNull())
    .addColumn('scope_value', 'text')
    .addColumn('deleted', 'integer', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addColumn('change_seq', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('acl_rules_pk', ['calendar_id', 'id'])
    .execute();

  await db.schema
    .createTable('settings')
    .addColumn('account_id', 'text', (c) => c.notNull().references('accounts.id'))
    .addColumn('id', 'text', (c) => c.notNull())
    .addColumn('value', 'text', (c) => c.notNull())
    .addColumn('change_seq', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('settings_pk', ['account_id', 'id'])
    .execute();
}
