import { SourceError } from '../../domain/source.ts';
import type { GoogleApi } from './google-api.ts';
import type { GoogleEvent } from './google-events.ts';
import { readGoogleEvent, remoteCalendarOf } from './google-events.ts';
import type { RemoteCalendar } from '../../domain/source.ts';

/** Entries asked for per page: Google's default, well under its cap of 2,500. */
export const PAGE_SIZE = 250;
/** Pages read in one listing at most (100,000 events at 400 × 250): a loop, not a calendar. */
const MAX_PAGES = 400;

export type EventListing =
  | { readonly gone: true }
  | { readonly gone: false; readonly events: GoogleEvent[]; readonly syncToken: string | null };

interface Page {
  readonly items?: unknown;
  readonly nextPageToken?: unknown;
  readonly nextSyncToken?: unknown;
}

function pageOf(json: unknown, what: string): Page {
  if (typeof json !== 'object' || json === null) {
    throw new SourceError('malformed', `${what}: the answer is not a JSON object`);
  }
  return json;
}

/** Every page of a list, following `nextPageToken`; the last page's `nextSyncToken` too. */
async function allPages(
  api: GoogleApi,
  path: string,
  params: Record<string, string>,
  what: string,
): Promise<{ gone: true } | { gone: false; items: unknown[]; syncToken: string | null }> {
  const items: unknown[] = [];
  let pageToken: string | null = null;
  for (let page = 0; page < MAX_PAGES; page++) {
    const query = new URLSearchParams({
      ...params,
      maxResults: String(PAGE_SIZE),
      ...(pageToken === null ? {} : { pageToken }),
    });
    const answer = await api.call({ method: 'GET', path: `${path}?${query.toString()}` });
    if (answer.gone) return { gone: true };
    const body = pageOf(answer.json, what);
    if (Array.isArray(body.items)) items.push(...(body.items as unknown[]));
    if (typeof body.nextPageToken === 'string' && body.nextPageToken !== '') {
      pageToken = body.nextPageToken;
      continue;
    }
    const syncToken =
      typeof body.nextSyncToken === 'string' && body.nextSyncToken !== ''
        ? body.nextSyncToken
        : null;
    return { gone: false, items, syncToken };
  }
  throw new SourceError('malformed', `${what}: more than ${MAX_PAGES} pages`);
}

/**
 * A calendar's events as stored upstream: series and overrides (not expanded occurrences),
 * cancelled ones included, from the start (`syncToken` null) or since a sync token. `gone`
 * when the server no longer knows the token: a full listing is needed.
 */
export async function listEvents(
  api: GoogleApi,
  calendarId: string,
  syncToken: string | null,
): Promise<EventListing> {
  const what = `events of ${calendarId}`;
  const listed = await allPages(
    api,
    `/calendars/${encodeURIComponent(calendarId)}/events`,
    {
      singleEvents: 'false',
      showDeleted: 'true',
      ...(syncToken === null ? {} : { syncToken }),
    },
    what,
  );
  if (listed.gone) {
    // A full listing has no token to lose: a 410 to it is the calendar gone.
    if (syncToken === null) throw new SourceError('not_found', `${what}: gone`);
    return { gone: true };
  }
  const events = listed.items.map(readGoogleEvent).filter((e) => e !== null);
  return {
    gone: false,
    events: await withSeriesUids(api, calendarId, events),
    syncToken: listed.syncToken,
  };
}

/**
 * Overrides with their series' iCalUID: Google leaves it out of a cancelled occurrence,
 * which then names its series by id alone. The series is usually in the same listing; when
 * not (an occurrence cancelled since the last poll), it is asked for. An override whose
 * series is gone keeps no UID, and so holds no event.
 */
async function withSeriesUids(
  api: GoogleApi,
  calendarId: string,
  events: GoogleEvent[],
): Promise<GoogleEvent[]> {
  const uids = new Map<string, string>();
  for (const event of events) {
    const uid = event.json['iCalUID'];
    if (typeof uid === 'string' && event.json['recurringEventId'] === undefined) {
      uids.set(event.id, uid);
    }
  }
  const resolved: GoogleEvent[] = [];
  for (const event of events) {
    const seriesId = event.json['recurringEventId'];
    if (typeof seriesId !== 'string' || typeof event.json['iCalUID'] === 'string') {
      resolved.push(event);
      continue;
    }
    let uid = uids.get(seriesId);
    if (uid === undefined) {
      uid = (await seriesUid(api, calendarId, seriesId)) ?? '';
      uids.set(seriesId, uid);
    }
    resolved.push(uid === '' ? event : { ...event, json: { ...event.json, iCalUID: uid } });
  }
  return resolved;
}

async function seriesUid(
  api: GoogleApi,
  calendarId: string,
  seriesId: string,
): Promise<string | null> {
  const path = `/calendars/${encodeURIComponent(calendarId)}/events/${encodeURIComponent(seriesId)}`;
  try {
    const answer = await api.call({ method: 'GET', path });
    if (answer.gone) return null;
    const uid = (answer.json as { iCalUID?: unknown } | null)?.iCalUID;
    return typeof uid === 'string' ? uid : null;
  } catch (err) {
    if (err instanceof SourceError && err.kind === 'not_found') return null;
    throw err;
  }
}

/** The account's calendars, as its calendar list holds them. */
export async function listCalendars(api: GoogleApi): Promise<RemoteCalendar[]> {
  const listed = await allPages(api, '/users/me/calendarList', {}, 'the calendar list');
  if (listed.gone) throw new SourceError('malformed', 'the calendar list answered 410');
  const seen = new Set<string>();
  const calendars: RemoteCalendar[] = [];
  for (const entry of listed.items) {
    const calendar = remoteCalendarOf(entry);
    if (!calendar || seen.has(calendar.remoteId)) continue;
    seen.add(calendar.remoteId);
    calendars.push(calendar);
  }
  return calendars;
}
