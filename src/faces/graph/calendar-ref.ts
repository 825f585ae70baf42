import type { CoreResources } from '../../core/resources.ts';
import { GraphError } from './errors.ts';

/** The account's default calendar (`me/calendar`): its primary one. */
export async function primaryCalendarId(res: CoreResources, accountId: string): Promise<string> {
  const row = await res.db
    .selectFrom('calendars')
    .select('id')
    .where('account_id', '=', accountId)
    .where('is_primary', '=', 1)
    .where('deleted', '=', 0)
    .executeTakeFirst();
  if (!row) throw GraphError.notFound('The default calendar was not found.');
  return row.id;
}
