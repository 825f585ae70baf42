import { Hono } from 'hono';
import type { Context } from 'hono';
import type { CoreResources } from '../../core/resources.ts';
import type { CalendarRow } from '../../core/calendars.ts';
import type { GoogleEnv } from './context.ts';
import {
  createCalendar,
  deleteCalendar,
  listCalendars,
  ownedCalendar,
  updateCalendar,
} from '../../core/calendars.ts';
import { isValidTimeZone } from '../../domain/time.ts';
import { readJson } from '../../http/read-json.ts';
import { resolveCalendarId } from './calendar-ref.ts';
import { GoogleError } from './errors.ts';
import { etag } from './list-params.ts';
import { calendarBodySchema, parseBody } from './schemas.ts';
import { calendarJson, calendarListEntryJson } from './serialize.ts';
import { listSmall } from './small-lists.ts';
import { watch } from './watch.ts';

async function calendarBody(c: Context<GoogleEnv>) {
  const body = parseBody(calendarBodySchema, await readJson(c));
  if (body.timeZone !== undefined && !isValidTimeZone(body.timeZone)) {
    throw new GoogleError(400, 'invalid', `Invalid time zone: ${body.timeZone}`);
  }
  return body;
}

/** `/calendars`: insert, get, patch, update, delete. */
export function calendarsRoutes(res: CoreResources) {
  const app = new Hono<GoogleEnv>();
  const calendarId = (c: Context<GoogleEnv>) =>
    resolveCalendarId(res, c.get('principal'), c.req.param('calendarId') ?? '');

  app.post('/', async (c) => {
    const body = await calendarBody(c);
    if (!body.summary) throw new GoogleError(400, 'required', 'Missing title.');
    const row = await createCalendar(res, c.get('principal').accountId, {
      name: body.summary,
      description: body.description,
      location: body.location,
      timeZone: body.timeZone,
    });
    return c.json(calendarJson(row));
  });

  app.get('/:calendarId', async (c) => {
    const row = await ownedCalendar(res.db, c.get('principal').accountId, await calendarId(c));
    return c.json(calendarJson(row));
  });

  const change = (mode: 'patch' | 'update') => async (c: Context<GoogleEnv>) => {
    const body = await calendarBody(c);
    if (mode === 'update' && !body.summary)
      throw new GoogleError(400, 'required', 'Missing title.');
    const row = await updateCalendar(res, c.get('principal').accountId, await calendarId(c), {
      name: body.summary || undefined,
      description: mode === 'update' ? (body.description ?? null) : body.description,
      location: mode === 'update' ? (body.location ?? null) : body.location,
      timeZone: body.timeZone,
    });
    return c.json(calendarJson(row));
  };
  app.patch('/:calendarId', change('patch'));
  app.put('/:calendarId', change('update'));

  app.delete('/:calendarId', async (c) => {
    await deleteCalendar(res, c.get('principal').accountId, await calendarId(c));
    return c.body(null, 204);
  });

  return app;
}

/** `/users/me/calendarList`: list (with sync), get and watch. */
export function calendarListRoutes(res: CoreResources) {
  const app = new Hono<GoogleEnv>();

  app.get('/', async (c) => {
    const { accountId } = c.get('principal');
    const page = await listSmall<CalendarRow>(res, c, {
      accountId,
      resource: 'calendarList',
      load: async () =>
        (await listCalendars(res, accountId, { includeDeleted: true })).map((row) => ({
          key: row.id,
          seq: Number(row.change_seq),
          deleted: row.deleted === 1,
          row,
        })),
      defaultMax: 100,
      cap: 250,
      syncConflicts: ['minAccessRole'],
      hasDeleted: true,
    });
    return c.json({
      kind: 'calendar#calendarList',
      etag: etag(page.snap),
      ...(page.nextPageToken ? { nextPageToken: page.nextPageToken } : {}),
      ...(page.nextSyncToken ? { nextSyncToken: page.nextSyncToken } : {}),
      items: page.rows.map(calendarListEntryJson),
    });
  });

  app.post('/watch', (c) =>
    watch(res, c, { kind: 'calendarList', calendarId: null }, '/users/me/calendarList'),
  );

  app.get('/:calendarId', async (c) => {
    const principal = c.get('principal');
    const id = await resolveCalendarId(res, principal, c.req.param('calendarId'));
    return c.json(calendarListEntryJson(await ownedCalendar(res.db, principal.accountId, id)));
  });

  return app;
}
