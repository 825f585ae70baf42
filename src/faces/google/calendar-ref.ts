import type { CoreResources } from '../../core/resources.ts';
import type { Principal } from '../../core/accounts.ts';

/**
 * Google lets clients name the user's primary calendar `primary` or by the user's email.
 * Any other id is passed through; the core checks it exists and is the caller's.
 */
export async function resolveCalendarId(
  res: CoreResources,
  principal: Principal,
  calendarId: string,
): Promise<string> {
  if (calendarId !== 'primary' && !calendarId.includes('@')) return calendarId;
  const row = await res.db
    .selectFrom('calendars')
    .innerJoin('accounts', 'accounts.id', 'calendars.account_id')
    .select(['calendars.id as id', 'accounts.email as email'])
    .where('calendars.account_id', '=', principal.accountId)
    .where('calendars.is_primary', '=', 1)
    .executeTakeFirst();
  if (row && (calendarId === 'primary' || calendarId === row.email)) return row.id;
  return calendarId;
}
