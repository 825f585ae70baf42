import { SourceError } from '../../domain/source.ts';
import type { DavSession } from './dav-session.ts';
import { hrefPath, samePath } from './href.ts';
import type { DavResponse } from './multistatus.ts';
import { propOf, propText } from './multistatus.ts';
import { ns } from './xml-tree.ts';

const body =
  `<?xml version="1.0" encoding="utf-8"?><d:propfind xmlns:d="${ns.dav}">` +
  '<d:prop><d:resourcetype/><d:getetag/></d:prop></d:propfind>';

/**
 * Every resource of a calendar with its etag, by key: what an etag diff compares with the
 * stored versions. It lists all resources, not only those holding events, as sync-collection
 * does, so both ways of reading a calendar agree on which keys exist.
 */
export async function listEtags(
  session: DavSession,
  calendarUrl: string,
): Promise<Map<string, string>> {
  const listing = await session.multistatus(
    { method: 'PROPFIND', url: calendarUrl, depth: '1', body },
    'calendar listing',
  );
  const calendarPath = hrefPath(listing.url, listing.url);
  const etags = new Map<string, string>();
  for (const response of listing.responses) {
    const key = hrefPath(response.href, listing.url);
    if (samePath(key, calendarPath) || isCollection(response)) continue;
    const etag = propText(response, ns.dav, 'getetag');
    if (etag === null) {
      throw new SourceError('malformed', `calendar listing: no etag for ${key}`);
    }
    etags.set(key, etag);
  }
  return etags;
}

function isCollection(response: DavResponse): boolean {
  const type = propOf(response, ns.dav, 'resourcetype');
  return type?.children.some((c) => c.ns === ns.dav && c.name === 'collection') ?? false;
}
