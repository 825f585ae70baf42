import { SourceError } from '../../domain/source.ts';
import type { CalendarState } from './calendar-props.ts';
import {
  calendarOf,
  discoveryListingBody,
  discoveryStartBody,
  homeSetBody,
  isCalendar,
} from './calendar-props.ts';
import type { DavSession } from './dav-session.ts';
import { collectionUrl, hrefPath, samePath, shownUrl } from './href.ts';
import type { DavResponse } from './multistatus.ts';
import { propHref } from './multistatus.ts';
import { ns } from './xml-tree.ts';

export interface Discovered {
  /** The collection the polls list: the calendar home, or the one calendar the URL named. */
  readonly home: string;
  /** The URL named one calendar: the probe lists that collection alone (Depth 0). */
  readonly single: boolean;
  readonly calendars: readonly CalendarState[];
}

/**
 * Finds the calendars from whatever URL the user has: a server root or `/.well-known/caldav`
 * (redirects followed), a principal, a calendar home, or one calendar. The URL's own answer
 * decides: a calendar is used alone; else its calendar-home-set, else its
 * current-user-principal's, else the URL itself is taken as the home.
 */
export async function discover(session: DavSession, url: string): Promise<Discovered> {
  const start = await session.multistatus(
    { method: 'PROPFIND', url, depth: '0', body: discoveryStartBody },
    'discovery',
  );
  const self = responseFor(start.responses, start.url);
  if (self && isCalendar(self)) {
    const calendar = calendarOf(self, start.url);
    if (!calendar) {
      throw new SourceError('not_found', `${shownUrl(start.url)} is a calendar without events`);
    }
    return { home: calendar.remoteId, single: true, calendars: [calendar] };
  }
  const home = await homeOf(session, self, start.url);
  const listing = await session.multistatus(
    { method: 'PROPFIND', url: home, depth: '1', body: discoveryListingBody },
    'calendar home listing',
  );
  const calendars = listing.responses
    .map((r) => calendarOf(r, listing.url))
    .filter((c) => c !== null);
  if (calendars.length === 0) {
    throw new SourceError('not_found', `no event calendar under ${shownUrl(home)}`);
  }
  return { home: collectionUrl(listing.url, listing.url), single: false, calendars };
}

async function homeOf(
  session: DavSession,
  self: DavResponse | undefined,
  url: string,
): Promise<string> {
  const homeSet = self && propHref(self, ns.caldav, 'calendar-home-set');
  if (homeSet) return collectionUrl(homeSet, url);
  const principalHref = self && propHref(self, ns.dav, 'current-user-principal');
  if (principalHref) {
    const principal = collectionUrl(principalHref, url);
    const answer = await session.multistatus(
      { method: 'PROPFIND', url: principal, depth: '0', body: homeSetBody },
      'principal',
    );
    const principalSelf = responseFor(answer.responses, answer.url);
    const href = principalSelf && propHref(principalSelf, ns.caldav, 'calendar-home-set');
    if (href) return collectionUrl(href, answer.url);
  }
  return collectionUrl(url, url);
}

/** The response about the requested resource itself (a Depth 0 answer has only that one). */
function responseFor(responses: readonly DavResponse[], url: string): DavResponse | undefined {
  const path = hrefPath(url, url);
  return (
    responses.find((r) => samePath(hrefPath(r.href, url), path)) ??
    (responses.length === 1 ? responses[0] : undefined)
  );
}
