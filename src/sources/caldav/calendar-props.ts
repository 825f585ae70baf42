import type { RemoteCalendar } from '../../domain/source.ts';
import { collectionUrl } from './href.ts';
import type { DavResponse } from './multistatus.ts';
import { propOf, propText } from './multistatus.ts';
import { childOf, childrenOf, ns } from './xml-tree.ts';

/** A calendar collection as one PROPFIND lists it. */
export interface CalendarState extends RemoteCalendar {
  /** CalendarServer's getctag: changes whenever anything in the calendar does. */
  readonly ctag: string | null;
  /** RFC 6578's sync token of the collection. */
  readonly syncToken: string | null;
  /** Whether supported-report-set lists sync-collection; null when it was not asked or given. */
  readonly syncReport: boolean | null;
}

const namespaces = `xmlns:d="${ns.dav}" xmlns:c="${ns.caldav}" xmlns:cs="${ns.cs}" xmlns:i="${ns.apple}"`;

/** What a calendar's entry in the home's listing needs, whatever the calendar's size. */
const calendarProps = [
  '<d:resourcetype/>',
  '<d:displayname/>',
  '<i:calendar-color/>',
  '<c:supported-calendar-component-set/>',
  '<c:calendar-timezone/>',
  '<cs:getctag/>',
  '<d:sync-token/>',
].join('');

function propfind(props: string): string {
  return `<?xml version="1.0" encoding="utf-8"?><d:propfind ${namespaces}><d:prop>${props}</d:prop></d:propfind>`;
}

/** The poll's probe: every calendar of the home with its ctag and sync token. */
export const probeBody = propfind(calendarProps);

/** Discovery asks also which reports the calendars support (a longer answer, asked once). */
export const discoveryListingBody = propfind(`${calendarProps}<d:supported-report-set/>`);

/** The first request of a discovery: where the principal and home are, and what this URL is. */
export const discoveryStartBody = propfind(
  `<d:current-user-principal/><c:calendar-home-set/>${calendarProps}<d:supported-report-set/>`,
);

export const homeSetBody = propfind('<c:calendar-home-set/>');

export function isCalendar(response: DavResponse): boolean {
  const type = propOf(response, ns.dav, 'resourcetype');
  return type !== undefined && childOf(type, ns.caldav, 'calendar') !== undefined;
}

/**
 * The calendar a response describes, or null when it is not a calendar that can hold
 * events (a task list, a plain collection, the home itself).
 */
export function calendarOf(response: DavResponse, base: string): CalendarState | null {
  if (!isCalendar(response) || !holdsEvents(response)) return null;
  const url = collectionUrl(response.href, base);
  return {
    remoteId: url,
    name: propText(response, ns.dav, 'displayname') ?? lastSegment(url),
    color: propText(response, ns.apple, 'calendar-color'),
    timeZone: timeZoneId(propText(response, ns.caldav, 'calendar-timezone')),
    ctag: propText(response, ns.cs, 'getctag'),
    syncToken: propText(response, ns.dav, 'sync-token'),
    syncReport: supportsSyncReport(response),
  };
}

/** A calendar without supported-calendar-component-set may hold any component. */
function holdsEvents(response: DavResponse): boolean {
  const set = propOf(response, ns.caldav, 'supported-calendar-component-set');
  if (set === undefined) return true;
  return childrenOf(set, ns.caldav, 'comp').some((c) => c.attributes['name'] === 'VEVENT');
}

function supportsSyncReport(response: DavResponse): boolean | null {
  const set = propOf(response, ns.dav, 'supported-report-set');
  if (set === undefined) return null;
  return childrenOf(set, ns.dav, 'supported-report').some((supported) => {
    const report = childOf(supported, ns.dav, 'report');
    return report !== undefined && childOf(report, ns.dav, 'sync-collection') !== undefined;
  });
}

/** The TZID of the VTIMEZONE calendar-timezone holds, or null. */
export function timeZoneId(vcalendar: string | null): string | null {
  if (vcalendar === null) return null;
  const unfolded = vcalendar.replace(/\r?\n[ \t]/g, '');
  const tzid = /^TZID(?:;[^:\r\n]*)?:(.+?)\r?$/m.exec(unfolded)?.[1]?.trim();
  return tzid ? tzid : null;
}

function lastSegment(url: string): string {
  const segment = new URL(url).pathname.split('/').filter(Boolean).at(-1) ?? url;
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}
