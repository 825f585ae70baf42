import { Hono } from 'hono';
import type { Context } from 'hono';
import type { CoreResources } from '../../core/resources.ts';
import type { EventRow } from '../../core/events.ts';
import type { GraphEnv } from './context.ts';
import { latestSeq, queryEvents } from '../../core/events.ts';
import { listInstances } from '../../core/instances.ts';
import { vanishedInstances } from '../../core/vanished-instances.ts';
import { isSeries } from '../../core/occurrence-rows.ts';
import { isLocalDateTime, isZonedDateTime } from '../../domain/time.ts';
import { GraphError } from './errors.ts';
import { eventsJson } from './events-routes.ts';
import { removedJson } from './event-json.ts';
import { primaryCalendarId } from './calendar-ref.ts';
import { linkTo, odataParam, pageSize, rejectUnsupported } from './odata-params.ts';

const DELTA = 'graph-delta';
const SKIP = 'graph-skip';
/** Graph's calendarView delta pages hold 10 events unless `odata.maxpagesize` asks more. */
const DEFAULT_PAGE = 10;
const MAX_PAGE = 1000;

interface Window {
  readonly from: number;
  readonly to: number;
}

/** A delta round's end: where the next round resumes (`$deltatoken`). */
interface DeltaState extends Window {
  readonly a: string;
  readonly c: string;
  readonly s: number;
}

/**
 * A page's place within a round (`$skiptoken`). A round first lists the window's instances
 * (changed ones only after a delta token); after a delta token it then lists, as removed,
 * the changed events that are no longer in the window (moved out or deleted there), and
 * last the occurrences a series' new rule or start no longer has (`vanishedInstances`).
 */
interface SkipState extends Window {
  readonly a: string;
  readonly c: string;
  readonly since: number | null;
  readonly snap: number;
  readonly phase: 'in' | 'out' | 'gone';
  readonly after: string | number | null;
  readonly max: number;
}

function windowParam(c: Context, name: string): number {
  const value = odataParam(c, name);
  if (value === undefined || value === '') {
    throw GraphError.invalid(
      'This request requires a time window specified by the query string parameters StartDateTime and EndDateTime.',
    );
  }
  // Graph reads a time without an offset as UTC.
  if (isZonedDateTime(value)) return Date.parse(value);
  if (isLocalDateTime(value))
    return Date.parse(`${value.length === 10 ? `${value}T00:00` : value}Z`);
  throw GraphError.invalid(`Invalid value '${value}' for query parameter '${name}'.`);
}

function overlaps(row: EventRow, w: Window): boolean {
  const start = Number(row.start_at);
  const end = Number(row.end_at);
  return start < w.to && (end > w.from || (end === start && start >= w.from));
}

/** The first page's state: a new round over a window, or the next round after a token. */
async function firstState(
  res: CoreResources,
  c: Context<GraphEnv>,
  accountId: string,
  calendarId: string,
): Promise<SkipState> {
  const max = pageSize(c, DEFAULT_PAGE, MAX_PAGE);
  const snap = await latestSeq(res, accountId);
  const deltaToken = odataParam(c, '$deltatoken');
  if (deltaToken !== undefined) {
    const d = res.tokens.open<DeltaState>(DELTA, deltaToken);
    if (!d || d.a !== accountId || d.c !== calendarId) throw syncStateNotFound(res, c);
    return { ...d, since: d.s, snap, phase: 'in', after: null, max };
  }
  const from = windowParam(c, 'startDateTime');
  const to = windowParam(c, 'endDateTime');
  if (to <= from) throw GraphError.invalid('EndDateTime must be later than StartDateTime.');
  return {
    a: accountId,
    c: calendarId,
    from,
    to,
    since: null,
    snap,
    phase: 'in',
    after: null,
    max,
  };
}

/** 410: the client starts over with a new window (Location: the bare delta URL). */
function syncStateNotFound(res: CoreResources, c: Context): GraphError {
  return GraphError.syncStateNotFound(`${res.publicUrl}${c.req.path}`);
}

const cursorOf = (after: SkipState['after']) => {
  if (typeof after !== 'string') return undefined;
  const space = after.indexOf(' ');
  return { at: Number(after.slice(0, space)), uid: after.slice(space + 1) };
};

/** One page of a round: its items, and the state of the next page (null at the round's end). */
async function deltaPage(
  res: CoreResources,
  c: Context<GraphEnv>,
  state: SkipState,
): Promise<{ items: unknown[]; next: SkipState | null }> {
  const items: unknown[] = [];
  let current = state;
  if (current.phase === 'in') {
    const { rows, more } = await listInstances(res, {
      accountId: current.a,
      calendarIds: [current.c],
      from: current.from,
      to: current.to,
      afterSeq: current.since ?? undefined,
      includeDeleted: current.since !== null,
      managed: 'include',
      after: cursorOf(current.after),
      limit: current.max,
      now: res.clock.now(),
    });
    const live = rows.filter((r) => r.deleted === 0);
    const json = await eventsJson(res, c, live);
    let i = 0;
    for (const row of rows) items.push(row.deleted === 1 ? removedJson(row.uid) : json[i++]);
    const last = rows.at(-1);
    if (more && last) {
      return { items, next: { ...current, after: `${Number(last.start_at)} ${last.uid}` } };
    }
    if (current.since === null) return { items, next: null };
    current = { ...current, phase: 'out', after: null };
    if (items.length >= current.max) return { items, next: current };
  }
  if (current.phase === 'out') {
    const { rows, more } = await queryEvents(res, {
      accountId: current.a,
      calendarIds: [current.c],
      afterSeq: current.since ?? undefined,
      includeDeleted: true,
      managed: 'include',
      afterId: typeof current.after === 'number' ? current.after : undefined,
      limit: current.max - items.length,
    });
    for (const row of rows) {
      // Series are read through their occurrences above; an event still in the window was too.
      if (!isSeries(row) && !overlaps(row, current)) items.push(removedJson(row.uid));
    }
    const last = rows.at(-1);
    if (more && last) return { items, next: { ...current, after: Number(last.id) } };
    current = { ...current, phase: 'gone', after: null };
    if (items.length >= current.max) return { items, next: current };
  }
  // The list is made again for each page, in the same order: a page goes on by position.
  const gone = await vanishedInstances(res, {
    accountId: current.a,
    calendarId: current.c,
    from: current.from,
    to: current.to,
    afterSeq: current.since ?? 0,
    throughSeq: current.snap,
  });
  const skip = typeof current.after === 'number' ? current.after : 0;
  const end = skip + current.max - items.length;
  items.push(...gone.slice(skip, end).map(removedJson));
  return { items, next: end < gone.length ? { ...current, after: end } : null };
}

/** `calendarView/delta` (and Kiota's `delta()` form) over the user's default calendar. */
export function deltaRoutes(res: CoreResources) {
  const app = new Hono<GraphEnv>();
  app.get('/calendarView/:fn', async (c) => {
    const fn = c.req.param('fn');
    if (fn !== 'delta' && fn !== 'delta()') throw GraphError.notFound();
    rejectUnsupported(c, ['$select', '$filter', '$orderby', '$expand', '$search']);
    const accountId = c.get('principal').accountId;
    const calendarId = await primaryCalendarId(res, accountId);
    const skip = odataParam(c, '$skiptoken');
    let state: SkipState;
    if (skip !== undefined) {
      const opened = res.tokens.open<SkipState>(SKIP, skip);
      if (!opened || opened.a !== accountId || opened.c !== calendarId) {
        throw syncStateNotFound(res, c);
      }
      state = opened;
    } else state = await firstState(res, c, accountId, calendarId);
    const { items, next } = await deltaPage(res, c, state);
    const link = next
      ? { '@odata.nextLink': linkTo(res, c, '$skiptoken', res.tokens.seal(SKIP, next)) }
      : {
          '@odata.deltaLink': linkTo(
            res,
            c,
            '$deltatoken',
            res.tokens.seal(DELTA, {
              a: accountId,
              c: calendarId,
              from: state.from,
              to: state.to,
              s: state.snap,
            } satisfies DeltaState),
          ),
        };
    return c.json({
      '@odata.context': `${res.publicUrl}/v1.0/$metadata#Collection(event)`,
      ...link,
      value: items,
    });
  });
  return app;
}
