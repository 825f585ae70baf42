import { Hono } from 'hono';
import type { CoreResources } from '../../core/resources.ts';
import type { SettingRow } from '../../core/settings.ts';
import type { GoogleEnv } from './context.ts';
import { listSettings } from '../../core/settings.ts';
import { GoogleError } from './errors.ts';
import { etag } from './list-params.ts';
import { settingJson } from './serialize.ts';
import { listSmall } from './small-lists.ts';
import { watch } from './watch.ts';

/** `/users/me/settings`: list (with sync), get, watch. Settings are read-only on Google too. */
export function settingsRoutes(res: CoreResources) {
  const app = new Hono<GoogleEnv>();

  app.get('/', async (c) => {
    const { accountId } = c.get('principal');
    const page = await listSmall<SettingRow>(res, c, {
      accountId,
      resource: 'settings',
      load: async () =>
        (await listSettings(res, accountId)).map((row) => ({
          key: row.id,
          seq: Number(row.change_seq),
          deleted: false,
          row,
        })),
      defaultMax: 100,
      cap: 250,
      syncConflicts: [],
      hasDeleted: false,
    });
    return c.json({
      kind: 'calendar#settings',
      etag: etag(page.snap),
      ...(page.nextPageToken ? { nextPageToken: page.nextPageToken } : {}),
      ...(page.nextSyncToken ? { nextSyncToken: page.nextSyncToken } : {}),
      items: page.rows.map(settingJson),
    });
  });

  app.post('/watch', (c) =>
    watch(res, c, { kind: 'settings', calendarId: null }, '/users/me/settings'),
  );

  app.get('/:setting', async (c) => {
    const settings = await listSettings(res, c.get('principal').accountId);
    const found = settings.find((s) => s.id === c.req.param('setting'));
    if (!found) throw GoogleError.notFound();
    return c.json(settingJson(found));
  });

  return app;
}
