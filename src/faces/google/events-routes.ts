import { Hono } from 'hono';
import type { Context } from 'hono';
import type { CoreResources } from '../../core/resources.ts';
import type { GoogleEnv } from './context.ts';
import { getAccount } from '../../core/accounts.ts';
import { ownedCalendar } from '../../core/calendars.ts';
import { deleteEvent, getEvent, insertEvent, updateEvent } from '../../core/events.ts';
import { readJson } from '../../http/read-json.ts';
import { formatUtcMillis } from '../../domain/time.ts';
import { resolveCalendarId } from './calendar-ref.ts';
import { eventFieldsFrom } from './event-fields.ts';
import { listEventsPage, listInstancesPage } from './events-list.ts';
import { GoogleError } from './errors.ts';
import { etag } from './list-params.ts';
import { eventBodySchema, parseBody } from './schemas.ts';
import { eventItems, eventJson } from './serialize.ts';
import { createRowReport } from '../../http/row-report.ts';
import type { Logger } from '../../log.ts';
import { watch } from './watch.ts';

/** `/calendars/{calendarId}/events`: Google's events resource over the shared core. */
export function eventsRoutes(res: CoreResources, logger: Logger) {
  const app = new Hono<GoogleEnv>();

  const target = async (c: Context<GoogleEnv>) => {
    const principal = c.get('principal');
    const calendarId = await resolveCalendarId(res, principal, c.req.param('calendarId') ?? '');
    return { accountId: principal.accountId, calendarId };
  };
  const ownerEmail = async (c: Context<GoogleEnv>) =>
    (await getAccount(res, c.get('principal').accountId)).email;

  app.get('/', async (c) => {
    const t = await target(c);
    const calendar = await ownedCalendar(res.db, t.accountId, t.calendarId);
    const page = await listEventsPage(res, c, t.accountId, t.calendarId);
    const email = await ownerEmail(c);
    return c.json({
      kind: 'calendar#events',
      etag: etag(
        page.rows.reduce((m, r) => Math.max(m, Number(r.change_seq)), Number(calendar.change_seq)),
      ),
      summary: calendar.name,
      ...(calendar.description ? { description: calendar.description } : {}),
      updated: formatUtcMillis(Number(calendar.updated_at)),
      timeZone: calendar.time_zone,
      accessRole: calendar.readonly === 1 ? 'reader' : 'owner',
      defaultReminders: [],
      ...(page.nextPageToken ? { nextPageToken: page.nextPageToken } : {}),
      ...(page.nextSyncToken ? { nextSyncToken: page.nextSyncToken } : {}),
      items: eventItems(page.rows, email, createRowReport(logger)),
    });
  });

  app.post('/watch', async (c) => {
    const t = await target(c);
    await ownedCalendar(res.db, t.accountId, t.calendarId);
    return watch(
      res,
      c,
      { kind: 'events', calendarId: t.calendarId },
      `/calendars/${encodeURIComponent(t.calendarId)}/events`,
    );
  });

  app.post('/', async (c) => {
    const body = parseBody(eventBodySchema, await readJson(c));
    if (body.id?.includes('_')) {
      throw GoogleError.parameter('id', 'An occurrence id cannot name a new event.', 'invalid');
    }
    const t = await target(c);
    const row = await insertEvent(res, t, eventFieldsFrom(body, null), {
      uid: body.id,
      icalUid: body.iCalUID,
    });
    return c.json(eventJson(row, await ownerEmail(c), createRowReport(logger)));
  });

  app.get('/:eventId/instances', async (c) => {
    const t = await target(c);
    const page = await listInstancesPage(res, c, t.accountId, t.calendarId);
    const calendar = await ownedCalendar(res.db, t.accountId, t.calendarId);
    const email = await ownerEmail(c);
    return c.json({
      kind: 'calendar#events',
      etag: etag(
        page.rows.reduce((m, r) => Math.max(m, Number(r.change_seq)), Number(calendar.change_seq)),
      ),
      summary: calendar.name,
      updated: formatUtcMillis(Number(calendar.updated_at)),
      timeZone: calendar.time_zone,
      accessRole: calendar.readonly === 1 ? 'reader' : 'owner',
      defaultReminders: [],
      ...(page.nextPageToken ? { nextPageToken: page.nextPageToken } : {}),
      items: eventItems(page.rows, email, createRowReport(logger)),
    });
  });

  app.get('/:eventId', async (c) => {
    const row = await getEvent(res, await target(c), c.req.param('eventId'));
    return c.json(eventJson(row, await ownerEmail(c), createRowReport(logger)));
  });

  const rewrite = (mode: 'patch' | 'update') => async (c: Context<GoogleEnv>) => {
    const body = parseBody(eventBodySchema, await readJson(c));
    const t = await target(c);
    const row = await updateEvent(res, t, c.req.param('eventId') ?? '', (current) =>
      eventFieldsFrom(body, mode === 'patch' ? current : null),
    );
    return c.json(eventJson(row, await ownerEmail(c), createRowReport(logger)));
  };
  app.patch('/:eventId', rewrite('patch'));
  app.put('/:eventId', rewrite('update'));

  app.delete('/:eventId', async (c) => {
    await deleteEvent(res, await target(c), c.req.param('eventId'));
    return c.body(null, 204);
  });

  return app;
}
