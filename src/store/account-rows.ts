import type { Database, Executor } from './schema.ts';

/** Every table that holds rows of an account, in an order its foreign keys allow deleting. */
export const ACCOUNT_TABLES = [
  'attempts',
  'notifications',
  'channels',
  'acl_rules',
  'source_items',
  'source_calendars',
  'series_history',
  'events',
  'calendars',
  'sources',
  'profiles',
  'settings',
  'changes',
  'access_tokens',
  'accounts',
] as const satisfies readonly (keyof Database)[];

export type AccountTable = (typeof ACCOUNT_TABLES)[number];

/**
 * Deletes every row of an account, in the caller's transaction, and returns how many went
 * from each table. Rows are found through the account's channels, calendars and sources,
 * which go last among their dependants, so each statement is one indexed delete.
 */
export async function deleteAccountRows(
  trx: Executor,
  accountId: string,
): Promise<Record<AccountTable, number>> {
  const channels = trx.selectFrom('channels').select('id').where('account_id', '=', accountId);
  const calendars = trx.selectFrom('calendars').select('id').where('account_id', '=', accountId);
  const sources = trx.selectFrom('sources').select('id').where('account_id', '=', accountId);
  const deleted = {} as Record<AccountTable, number>;
  const count = async (table: AccountTable, run: Promise<{ numDeletedRows: bigint }>) => {
    deleted[table] = Number((await run).numDeletedRows);
  };
  await count(
    'attempts',
    trx.deleteFrom('attempts').where('channel_id', 'in', channels).executeTakeFirst(),
  );
  await count(
    'notifications',
    trx.deleteFrom('notifications').where('channel_id', 'in', channels).executeTakeFirst(),
  );
  await count(
    'channels',
    trx.deleteFrom('channels').where('account_id', '=', accountId).executeTakeFirst(),
  );
  await count(
    'acl_rules',
    trx.deleteFrom('acl_rules').where('calendar_id', 'in', calendars).executeTakeFirst(),
  );
  await count(
    'source_items',
    trx.deleteFrom('source_items').where('calendar_id', 'in', calendars).executeTakeFirst(),
  );
  await count(
    'source_calendars',
    trx.deleteFrom('source_calendars').where('source_id', 'in', sources).executeTakeFirst(),
  );
  for (const table of [
    'series_history',
    'events',
    'calendars',
    'sources',
    'profiles',
    'settings',
  ] as const) {
    await count(
      table,
      trx.deleteFrom(table).where('account_id', '=', accountId).executeTakeFirst(),
    );
  }
  await count(
    'changes',
    trx.deleteFrom('changes').where('account_id', '=', accountId).executeTakeFirst(),
  );
  await count(
    'access_tokens',
    trx.deleteFrom('access_tokens').where('account_id', '=', accountId).executeTakeFirst(),
  );
  await count(
    'accounts',
    trx.deleteFrom('accounts').where('id', '=', accountId).executeTakeFirst(),
  );
  return deleted;
}
