import { Hono } from 'hono';
import type { CoreResources } from '../../core/resources.ts';
import type { CronofyEnv } from './context.ts';
import type { EventFields } from '../../core/events.ts';
import type { EventTime } from '../../domain/event-time.ts';
import { createCalendar, listCalendars } from '../../core/calendars.ts';
import { deleteManagedEvent, upsertManagedEvent } from '../../core/events.ts';
import { getAccount } from '../../core/accounts.ts';
import { readJson } from '../../http/read-json.ts';
import { isDateOnly } from '../../domain/time.ts';
import type { UpsertEventBody } from './schemas.ts';
import {
  createCalendarSchema,
  deleteEventSchema,
  parseBody,
  upsertEventSchema,
} from './schemas.ts';
import { calendarJson } from './serialize.ts';

function toEventTime(value: UpsertEventBody['start'], tzid: string | undefined): EventTime {
  if (typeof value === 'string') {
    if (isDateOnly(value)) return { date: value };
    return { dateTime: value, timeZone: tzid };
  }
  return { dateTime: value.time, timeZone: value.tzid ?? tzid };
}

export function toEventFields(body: UpsertEventBody): EventFields {
  return {
    summary: body.summary,
    description: body.description ?? null,
    location: body.location?.description ?? null,
    start: toEventTime(body.start, body.tzid),
    end: toEventTime(body.end, body.tzid),
    extra:
      body.transparency || body.color
        ? { transparency: body.transparency, color: body.color }
        : null,
  };
}

export function calendarsRoutes(res: CoreResources) {
  const app = new Hono<CronofyEnv>();

  app.get('/', async (c) => {
    const { accountId } = c.get('principal');
    const account = await getAccount(res, accountId);
    const profiles = new Map(account.profiles.map((p) => [p.id, p]));
    const calendars = await listCalendars(res, accountId);
    return c.json({
      calendars: calendars.map((cal) =>
        calendarJson(cal, profiles.get(cal.profile_id) ?? { id: cal.profile_id, name: '' }),
      ),
    });
  });

  app.post('/', async (c) => {
    const body = parseBody(createCalendarSchema, await readJson(c));
    const { accountId } = c.get('principal');
    const calendar = await createCalendar(res, accountId, {
      profileId: body.profile_id,
      name: body.name,
      color: body.color,
    });
    const account = await getAccount(res, accountId);
    const profile = account.profiles.find((p) => p.id === calendar.profile_id);
    return c.json({
      calendar: calendarJson(calendar, profile ?? { id: calendar.profile_id, name: '' }),
    });
  });

  app.post('/:calendarId/events', async (c) => {
    const body = parseBody(upsertEventSchema, await readJson(c));
    const { accountId } = c.get('principal');
    const target = { accountId, calendarId: c.req.param('calendarId') };
    await upsertManagedEvent(res, target, body.event_id, toEventFields(body));
    return c.body(null, 202);
  });

  app.delete('/:calendarId/events', async (c) => {
    const body = parseBody(deleteEventSchema, await readJson(c));
    const { accountId } = c.get('principal');
    await deleteManagedEvent(
      res,
      { accountId, calendarId: c.req.param('calendarId') },
      body.event_id,
    );
    return c.body(null, 202);
  });

  return app;
}
