import { Hono } from 'hono';
import type { Context } from 'hono';
import type { CoreResources } from '../../core/resources.ts';
import type { EventRow } from '../../core/events.ts';
import type { GraphEnv } from './context.ts';
import type { EventJsonContext } from './event-json.ts';
import { getAccount } from '../../core/accounts.ts';
import { listCalendars, ownedCalendar } from '../../core/calendars.ts';
import { deleteEvent, getEvent, insertEvent, queryEvents, updateEvent } from '../../core/events.ts';
import { readJson } from '../../http/read-json.ts';
import { GraphError } from './errors.ts';
import { calendarOfEvent, storedOccurrences } from './event-ref.ts';
import { eventTypeOf, graphEventJson } from './event-json.ts';
import { eventBodySchema, eventFieldsFrom } from './event-fields.ts';
import { parseBody } from './schemas.ts';
import { primaryCalendarId } from './calendar-ref.ts';
import { preferredZone } from './time-zones.ts';
import { linkTo, odataParam, pageSize, rejectUnsupported } from './odata-params.ts';

const PAGE = 'graph-page';
/** Graph lists 10 events a page unless asked; at most 1,000. */
const DEFAULT_PAGE = 10;
const MAX_PAGE = 1000;

interface ListState {
  readonly a: string;
  readonly p: string;
  readonly after: number;
  readonly max: number;
}

/** How an event list reads: the zone asked for, and the owner it names as organizer. */
export async function jsonContext(
  res: CoreResources,
  c: Context<GraphEnv>,
): Promise<EventJsonContext> {
  const account = await getAccount(res, c.get('principal').accountId);
  return {
    ownerName: account.name,
    ownerEmail: account.email,
    zone: preferredZone(c.req.header('prefer')),
  };
}

/** Rows in Graph's shape, telling exceptions from occurrences nobody changed. */
export async function eventsJson(
  res: CoreResources,
  c: Context<GraphEnv>,
  rows: readonly EventRow[],
) {
  const ctx = await jsonContext(res, c);
  const stored = await storedOccurrences(res, c.get('principal').accountId, rows);
  return rows.map((row) => graphEventJson(row, eventTypeOf(row, stored.has(row.uid)), ctx));
}

/** `…/events`: single events and series masters (occurrences are in calendarView), paged. */
async function listEvents(res: CoreResources, c: Context<GraphEnv>, calendarIds: string[]) {
  rejectUnsupported(c, ['$filter', '$orderby', '$search', '$expand', '$skip']);
  const accountId = c.get('principal').accountId;
  const token = odataParam(c, '$skiptoken');
  let state: ListState;
  if (token !== undefined) {
    const opened = res.tokens.open<ListState>(PAGE, token);
    if (!opened || opened.a !== accountId || opened.p !== c.req.path) {
      throw GraphError.invalid('The $skiptoken is not valid.');
    }
    state = opened;
  } else {
    state = { a: accountId, p: c.req.path, after: 0, max: pageSize(c, DEFAULT_PAGE, MAX_PAGE) };
  }
  const { rows, more } = await queryEvents(res, {
    accountId,
    calendarIds,
    includeDeleted: false,
    managed: 'include',
    afterId: state.after,
    limit: state.max,
  });
  // Exceptions are read through their series' occurrences, not listed here (as on Graph).
  const shown = rows.filter((r) => r.recurring_event_id === null);
  const last = rows.at(-1);
  return c.json({
    '@odata.context': `${res.publicUrl}/v1.0/$metadata#users('${accountId}')/events`,
    value: await eventsJson(res, c, shown),
    ...(more && last
      ? {
          '@odata.nextLink': linkTo(
            res,
            c,
            '$skiptoken',
            res.tokens.seal(PAGE, { ...state, after: Number(last.id) }),
          ),
        }
      : {}),
  });
}

async function oneEventJson(res: CoreResources, c: Context<GraphEnv>, row: EventRow) {
  const [json] = await eventsJson(res, c, [row]);
  return {
    '@odata.context': `${res.publicUrl}/v1.0/$metadata#users('${row.account_id}')/events/$entity`,
    ...json,
  };
}

/** Events under the user: `/events`, `/calendar/events`, `/calendars/{id}/events`. */
export function eventsRoutes(res: CoreResources) {
  const app = new Hono<GraphEnv>();
  const account = (c: Context<GraphEnv>) => c.get('principal').accountId;

  const insertInto = async (c: Context<GraphEnv>, calendarId: string) => {
    const body = parseBody(eventBodySchema, await readJson(c));
    const row = await insertEvent(
      res,
      { accountId: account(c), calendarId },
      eventFieldsFrom(body, null),
    );
    return c.json(await oneEventJson(res, c, row), 201);
  };

  app.get('/events', async (c) => {
    const calendars = await listCalendars(res, account(c));
    return listEvents(
      res,
      c,
      calendars.map((cal) => cal.id),
    );
  });
  app.post('/events', async (c) => insertInto(c, await primaryCalendarId(res, account(c))));
  app.get('/calendar/events', async (c) =>
    listEvents(res, c, [await primaryCalendarId(res, account(c))]),
  );
  app.post('/calendar/events', async (c) =>
    insertInto(c, await primaryCalendarId(res, account(c))),
  );
  app.get('/calendars/:calendarId/events', async (c) => {
    const calendar = await ownedCalendar(res.db, account(c), c.req.param('calendarId'));
    return listEvents(res, c, [calendar.id]);
  });
  app.post('/calendars/:calendarId/events', async (c) => insertInto(c, c.req.param('calendarId')));

  const target = async (c: Context<GraphEnv>) => {
    const id = c.req.param('id') ?? '';
    return { accountId: account(c), calendarId: await calendarOfEvent(res, account(c), id), id };
  };
  /** A live event or occurrence: on Graph a deleted one is simply not found. */
  const liveEvent = async (c: Context<GraphEnv>) => {
    const t = await target(c);
    const row = await getEvent(res, t, t.id);
    if (row.deleted === 1) throw GraphError.notFound();
    return { t, row };
  };
  app.get('/events/:id', async (c) => {
    const { row } = await liveEvent(c);
    return c.json(await oneEventJson(res, c, row));
  });
  app.patch('/events/:id', async (c) => {
    const body = parseBody(eventBodySchema, await readJson(c));
    const { t } = await liveEvent(c);
    const row = await updateEvent(res, t, t.id, (current) => eventFieldsFrom(body, current));
    return c.json(await oneEventJson(res, c, row));
  });
  app.delete('/events/:id', async (c) => {
    const t = await target(c);
    await deleteEvent(res, t, t.id);
    return c.body(null, 204);
  });

  return app;
}
