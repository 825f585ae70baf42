import { Hono } from 'hono';
import type { Context } from 'hono';
import type { CoreResources } from '../../core/resources.ts';
import type { CronofyEnv } from './context.ts';
import type { InstanceCursor, InstanceFilter } from '../../core/instances.ts';
import { countInstances, listInstances } from '../../core/instances.ts';
import { getAccount } from '../../core/accounts.ts';
import { listCalendars } from '../../core/calendars.ts';
import {
  addDays,
  dateInZone,
  isDateOnly,
  isValidTimeZone,
  isZonedDateTime,
  zonedToUtc,
} from '../../domain/time.ts';
import { CronofyError } from './errors.ts';
import { eventItems } from './serialize.ts';
import { createRowReport } from '../../http/row-report.ts';
import type { Logger } from '../../log.ts';

export const EVENTS_PAGE_SIZE = 25;
// Pages resume after an instance, no longer after a row id: tokens of the old kind are
// refused (404) rather than read as the first page.
const PAGE_TOKEN = 'cronofy-instances-page';

/** A read's filters; calendars are named by the client, or are all of the account's. */
interface EventsFilter extends Omit<InstanceFilter, 'calendarIds' | 'now'> {
  readonly calendarIds?: readonly string[] | undefined;
}

interface PageState {
  readonly q: EventsFilter;
  /** The last instance of the page before, none on the first page. */
  readonly after: InstanceCursor | null;
  readonly page: number;
  readonly total: number;
}

function invalid(field: string, description: string): CronofyError {
  return CronofyError.field(422, field, 'errors.invalid', description);
}

function bool(c: Context, name: string, fallback: boolean): boolean {
  const value = c.req.query(name);
  if (value === undefined || value === '') return fallback;
  if (value === 'true') return true;
  if (value === 'false') return false;
  throw invalid(name, 'must be true or false');
}

/** `from`/`to` are dates in `tzid` (or full times); bounds are [from, to). */
function bound(c: Context, name: string, tzid: string, fallback: string): number {
  const value = c.req.query(name) ?? fallback;
  if (isDateOnly(value)) return zonedToUtc(value, tzid);
  if (isZonedDateTime(value)) return Date.parse(value);
  throw invalid(name, 'must be a date (YYYY-MM-DD) or a time with an offset');
}

function parseQuery(c: Context, accountId: string, now: number): EventsFilter {
  const tzid = c.req.query('tzid');
  if (!tzid) throw CronofyError.field(422, 'tzid', 'errors.required', 'required');
  if (!isValidTimeZone(tzid)) throw invalid('tzid', `unknown time zone ${tzid}`);
  const today = dateInZone(now, tzid);
  const from = bound(c, 'from', tzid, addDays(today, -16));
  const to = bound(c, 'to', tzid, addDays(today, 201));
  if (to <= from) throw invalid('to', 'must be after from');
  const lastModified = c.req.query('last_modified');
  if (lastModified !== undefined && !isZonedDateTime(lastModified)) {
    throw invalid('last_modified', 'must be a time with an offset, such as 2024-09-14T09:24:16Z');
  }
  const calendarIds = [
    ...(c.req.queries('calendar_ids[]') ?? []),
    ...(c.req.queries('calendar_ids') ?? []),
  ];
  const onlyManaged = bool(c, 'only_managed', false);
  const includeManaged = bool(c, 'include_managed', false);
  return {
    accountId,
    calendarIds: calendarIds.length > 0 ? calendarIds : undefined,
    from,
    to,
    modifiedSince: lastModified === undefined ? undefined : Date.parse(lastModified),
    includeDeleted: bool(c, 'include_deleted', false),
    managed: onlyManaged ? 'only' : includeManaged ? 'include' : 'exclude',
  };
}

/**
 * The read as the core takes it: without `calendar_ids`, every calendar of the account,
 * deleted ones too, so that a `last_modified` read with `include_deleted` still hears of the
 * events a removed calendar took with it.
 */
async function instanceFilter(res: CoreResources, q: EventsFilter): Promise<InstanceFilter> {
  const calendarIds =
    q.calendarIds ??
    (await listCalendars(res, q.accountId, { includeDeleted: true })).map((cal) => cal.id);
  return { ...q, calendarIds, now: res.clock.now() };
}

export function eventsRoutes(res: CoreResources, logger: Logger) {
  const app = new Hono<CronofyEnv>();

  const respond = async (c: Context<CronofyEnv>, state: PageState, filter: InstanceFilter) => {
    const { accountId } = c.get('principal');
    const { rows, more } = await listInstances(res, {
      ...filter,
      after: state.after ?? undefined,
      limit: EVENTS_PAGE_SIZE,
    });
    const account = await getAccount(res, accountId);
    const last = rows.at(-1);
    const next: PageState | undefined =
      more && last
        ? { ...state, after: { at: Number(last.start_at), uid: last.uid }, page: state.page + 1 }
        : undefined;
    return c.json({
      pages: {
        current: state.page,
        total: Math.max(state.total, state.page),
        ...(next
          ? { next_page: `${res.publicUrl}/v1/events/pages/${res.tokens.seal(PAGE_TOKEN, next)}` }
          : {}),
      },
      events: eventItems(rows, account.email, createRowReport(logger)),
    });
  };

  app.get('/', async (c) => {
    const { accountId } = c.get('principal');
    const q = parseQuery(c, accountId, res.clock.now());
    const filter = await instanceFilter(res, q);
    const count = await countInstances(res, filter);
    const total = Math.max(1, Math.ceil(count / EVENTS_PAGE_SIZE));
    return respond(c, { q, after: null, page: 1, total }, filter);
  });

  app.get('/pages/:token', async (c) => {
    const state = res.tokens.open<PageState>(PAGE_TOKEN, c.req.param('token'));
    if (!state || state.q.accountId !== c.get('principal').accountId) {
      throw CronofyError.field(404, 'next_page', 'errors.not_found', 'unknown or expired page');
    }
    return respond(c, state, await instanceFilter(res, state.q));
  });

  return app;
}
