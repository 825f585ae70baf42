import type { Context } from 'hono';
import type { CoreResources } from '../../core/resources.ts';
import type { EventRow } from '../../core/events.ts';
import type { PageState } from './list-params.ts';
import { latestSeq, queryEvents } from '../../core/events.ts';
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
  return { tmin, tmax, umin, ical, d };
}

function firstPage(c: Context, res: CoreResources, accountId: string, resource: string) {
  const syncToken = c.req.query('syncToken');
  if (!syncToken) return { since: null, q: fullListFilter(c) };
  rejectWithSyncToken(c, SYNC_CONFLICTS);
  if (boolParam(c, 'showDeleted') === false) {
    throw GoogleError.parameter('showDeleted', 'showDeleted cannot be false with syncToken.');
  }
  return { since: openSyncToken(res, syncToken, accountId, resource), q: { d: true } };
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
  const { q } = state;
  const { rows, more } = await queryEvents(res, {
    accountId,
    calendarIds: [calendarId],
    from: q.tmin,
    to: q.tmax,
    modifiedSince: q.umin,
    afterSeq: state.since ?? undefined,
    icalUid: q.ical,
    includeDeleted: q.d,
    managed: 'include',
    afterId: typeof state.after === 'number' ? state.after : undefined,
    limit: state.max,
  });
  const last = rows.at(-1);
  if (more && last) {
    return { rows, nextPageToken: sealPageToken(res, { ...state, after: Number(last.id) }) };
  }
  return { rows, nextSyncToken: sealSyncToken(res, accountId, resource, state.snap) };
}
