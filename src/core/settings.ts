import type { CoreResources } from './resources.ts';
import type { SettingsTable } from '../store/schema.ts';

export type SettingRow = SettingsTable;

/** An account's user settings (Google's settings resource); read-only through the API. */
export async function listSettings(res: CoreResources, accountId: string): Promise<SettingRow[]> {
  return res.db
    .selectFrom('settings')
    .selectAll()
    .where('account_id', '=', accountId)
    .orderBy('id')
    .execute();
}
