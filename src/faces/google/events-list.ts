import type { Context } from 'hono';
import type { CoreResources } from '../../core/resources.ts';
import type { EventRow } from '../../core/events.ts';
import type { PageState } from './list-params.ts';
import { getEvent, latestSeq, queryEvents } from '../../core/events.ts';
import { isSeries } from '../../core/occurrence-rows.ts';
import { listInstances } from '../../core/instances.ts';
import type { InstanceCursor } from '../../core/instances.ts';
import { GoogleError } from './errors.ts';
import {
  boolParam,
  maxResults,
  openPageToken,
  openSyncToken,
  rejectWithSyncToken,
  sealPageToken,
  sealSyncToken,
  timeParam,
} from './list-params.ts';

/** The filters of one events.list, carried from page to page inside the page token. */
interface EventsFilter {
  readonly tmin?: number | undefined;
  readonly tmax?: number | undefined;
  readonly umin?: number | undefined;
  readonly ical?: string | undefined;
  readonly d: boolean;
  /** singleEvents: occurrences instead of series, in start order. */
  readonly s?: boolean | undefined;
}

const SYNC_CONFLICTS = [
  'timeMin',
  'timeMax',
  'updatedMin',
  'q',
  'orderBy',
  'iCalUID',
  'privateExtendedProperty',
  'sharedExtendedProperty',
];

function fullListFilter(c: Context): EventsFilter {
  if (c.req.query('q') !== undefined) {
    throw GoogleError.parameter('q', 'Free-text search (q) is not supported by calpush.');
  }
  const orderBy = c.req.query('orderBy');
  if (orderBy !== undefined && orderBy !== 'startTime' && orderBy !== 'updated') {
    throw GoogleError.parameter('orderBy', `Invalid value '${orderBy}' for orderBy.`);
  }
  if (orderBy === 'startTime' && boolParam(c, 'singleEvents') !== true) {
    throw GoogleError.parameter(
      'orderBy',
      'The requested ordering is not available for the particular query.',
    );
  }
  const tmin = timeParam(c, 'timeMin');
  const tmax = timeParam(c, 'timeMax');
  if (tmin !== undefined && tmax !== undefined && tmax <= tmin) {
    throw GoogleError.parameter('timeMax', 'The specified time range is empty.', 'timeRangeEmpty');
  }
  const umin = timeParam(c, 'updatedMin');
  const ical = c.req.query('iCalUID') || undefined;
  // With updatedMin, deleted events are always included (Google's rule).
  const d = umin !== undefined || (boolParam(c, 'showDeleted') ?? false);
  return { tmin, tmax, umin, ical, d, s: boolParam(c, 'singleEvents') ?? false };
}

function firstPage(c: Context, res: CoreResources, accountId: string, resource: string) {
  const syncToken = c.req.query('syncToken');
  if (!syncToken) return { since: null, q: fullListFilter(c) };
  rejectWithSyncToken(c, SYNC_CONFLICTS);
  if (boolParam(c, 'showDeleted') === false) {
    throw GoogleError.parameter('showDeleted', 'showDeleted cannot be false with syncToken.');
  }
  return {
    since: openSyncToken(res, syncToken, accountId, resource),
    q: { d: true, s: boolParam(c, 'singleEvents') ?? false },
  };
}

export interface EventsPage {
  readonly rows: EventRow[];
  readonly nextPageToken?: string;
  readonly nextSyncToken?: string;
}

/** One page of events.list: a full read, or an incremental one after a sync token. */
export async function listEventsPage(
  res: CoreResources,
  c: Context,
  accountId: string,
  calendarId: string,
): Promise<EventsPage> {
  const resource = `events:${calendarId}`;
  const pageToken = c.req.query('pageToken');
  let state: PageState<EventsFilter>;
  if (pageToken) {
    state = openPageToken<EventsFilter>(res, pageToken, accountId, resource);
  } else {
    const { since, q } = firstPage(c, res, accountId, resource);
    const max = maxResults(c, 250, 2500);
    const snap = await latestSeq(res, accountId);
    state = { a: accountId, r: resource, snap, since, after: null, max, q };
  }
  if (state.q.s) return instancesPage(res, accountId, calendarId, state);
  const { rows, more } = await queryEvents(res, {
    ...readOf(accountId, calendarId, state),
    includeCancelledOccurrences: true,
    afterId: typeof state.after === 'number' ? state.after : undefined,
    limit: state.max,
  });
  const last = rows.at(-1);
  if (more && last) {
    return { rows, nextPageToken: sealPageToken(res, { ...state, after: Number(last.id) }) };
  }
  return { rows, nextSyncToken: sealSyncToken(res, accountId, resource, state.snap) };
}

/** What a list page reads, series or instances: its calendar, window and filters. */
function readOf(accountId: string, calendarId: string, state: PageState<EventsFilter>) {
  const { q } = state;
  return {
    accountId,
    calendarIds: [calendarId],
    from: q.tmin,
    to: q.tmax,
    modifiedSince: q.umin,
    afterSeq: state.since ?? undefined,
    icalUid: q.ical,
    includeDeleted: q.d,
    managed: 'include' as const,
  };
}

/** A page token's place in an instance listing: the last instance's start and id. */
function cursorOf(after: PageState<unknown>['after']): InstanceCursor | undefined {
  if (typeof after !== 'string') return undefined;
  const space = after.indexOf(' ');
  return { at: Number(after.slice(0, space)), uid: after.slice(space + 1) };
}

/** singleEvents=true: occurrences and exceptions in place of series, in start order. */
async function instancesPage(
  res: CoreResources,
  accountId: string,
  calendarId: string,
  state: PageState<EventsFilter>,
): Promise<EventsPage> {
  const { rows, more } = await listInstances(res, {
    ...readOf(accountId, calendarId, state),
    after: cursorOf(state.after),
    limit: state.max,
    now: res.clock.now(),
  });
  const last = rows.at(-1);
  if (more && last) {
    const after = `${Number(last.start_at)} ${last.uid}`;
    return { rows, nextPageToken: sealPageToken(res, { ...state, after }) };
  }
  return { rows, nextSyncToken: sealSyncToken(res, accountId, state.r, state.snap) };
}

/** The filters of one events.instances, carried in its page tokens. */
interface InstancesFilter {
  readonly tmin?: number | undefined;
  readonly tmax?: number | undefined;
  readonly orig?: number | undefined;
  readonly d: boolean;
}

/** One page of events.instances: the occurrences and exceptions of one series. */
export async function listInstancesPage(
  res: CoreResources,
  c: Context,
  accountId: string,
  calendarId: string,
): Promise<EventsPage> {
  const eventId = c.req.param('eventId') ?? '';
  const series = await getEvent(res, { accountId, calendarId }, eventId);
  const resource = `instances:${calendarId}:${eventId}`;
  const pageToken = c.req.query('pageToken');
  let state: PageState<InstancesFilter>;
  if (pageToken) {
    state = openPageToken<InstancesFilter>(res, pageToken, accountId, resource);
  } else {
    const tmin = timeParam(c, 'timeMin');
    const tmax = timeParam(c, 'timeMax');
    if (tmin !== undefined && tmax !== undefined && tmax <= tmin) {
      throw GoogleError.parameter(
        'timeMax',
        'The specified time range is empty.',
        'timeRangeEmpty',
      );
    }
    const orig = timeParam(c, 'originalStart');
    const q = { tmin, tmax, orig, d: boolParam(c, 'showDeleted') ?? false };
    const max = maxResults(c, 250, 2500);
    state = { a: accountId, r: resource, snap: 0, since: null, after: null, max, q };
  }
  if (!isSeries(series)) return { rows: [] };
  const { q } = state;
  const { rows, more } = await listInstances(res, {
    accountId,
    calendarIds: [calendarId],
    from: q.tmin,
    to: q.tmax,
    includeDeleted: q.d,
    managed: 'include',
    seriesUid: series.uid,
    originalStartAt: q.orig,
    after: cursorOf(state.after),
    limit: state.max,
    now: res.clock.now(),
  });
  const last = rows.at(-1);
  if (more && last) {
    const after = `${Number(last.start_at)} ${last.uid}`;
    return { rows, nextPageToken: sealPageToken(res, { ...state, after }) };
  }
  return { rows };
}
