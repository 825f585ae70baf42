import type { SourceItem } from '../../domain/source.ts';
import { SourceError } from '../../domain/source.ts';
import type { DavSession } from './dav-session.ts';
import { hrefPath, shownUrl } from './href.ts';
import { propText } from './multistatus.ts';
import { escapeXml, ns } from './xml-tree.ts';

/**
 * Turns one resource's iCalendar text into an item: `key` is its href, `version` its etag.
 * Throws SourceError('malformed') on text it cannot read; returns no events for a resource
 * that holds none (a VTODO).
 */
export type ParseItem = (ics: string, key: string, version: string) => SourceItem;

/** Hrefs per calendar-multiget: the answer carries every item's whole text. */
export const multigetBatch = 100;

export interface Fetched {
  readonly items: readonly SourceItem[];
  /** Keys the server says are gone (404), deleted since they were listed. */
  readonly gone: readonly string[];
}

function multigetBody(keys: readonly string[]): string {
  return (
    `<?xml version="1.0" encoding="utf-8"?>` +
    `<c:calendar-multiget xmlns:d="${ns.dav}" xmlns:c="${ns.caldav}">` +
    '<d:prop><d:getetag/><c:calendar-data/></d:prop>' +
    keys.map((k) => `<d:href>${escapeXml(k)}</d:href>`).join('') +
    '</c:calendar-multiget>'
  );
}

/** Reads the given resources of a calendar with calendar-multiget, in batches. */
export async function multiget(
  session: DavSession,
  calendarUrl: string,
  keys: readonly string[],
  parseItem: ParseItem,
): Promise<Fetched> {
  const items: SourceItem[] = [];
  const gone: string[] = [];
  for (let i = 0; i < keys.length; i += multigetBatch) {
    const batch = keys.slice(i, i + multigetBatch);
    const answer = await session.multistatus(
      { method: 'REPORT', url: calendarUrl, body: multigetBody(batch) },
      'calendar-multiget',
    );
    const wanted = new Set(batch);
    for (const response of answer.responses) {
      const key = hrefPath(response.href, answer.url);
      if (!wanted.delete(key)) continue;
      if (response.status === 404) {
        gone.push(key);
        continue;
      }
      const etag = propText(response, ns.dav, 'getetag');
      const ics = propText(response, ns.caldav, 'calendar-data');
      if (etag === null || ics === null) {
        throw new SourceError('malformed', `calendar-multiget: no etag or data for ${key}`);
      }
      // XML parsers turn CRLF into LF (XML 1.0, 2.11): iCalendar gets its CRLF back.
      items.push(parsed(parseItem, ics.replace(/\r?\n/g, '\r\n'), key, etag));
    }
    // A server that skips an href would make us lose it for good once the cursor moves on.
    if (wanted.size > 0) {
      const missing = [...wanted].slice(0, 3).join(', ');
      throw new SourceError(
        'malformed',
        `calendar-multiget on ${shownUrl(calendarUrl)} left out ${wanted.size} href(s): ${missing}`,
      );
    }
  }
  return { items, gone };
}

function parsed(parseItem: ParseItem, ics: string, key: string, etag: string): SourceItem {
  try {
    return parseItem(ics, key, etag);
  } catch (err) {
    if (err instanceof SourceError) throw err;
    throw new SourceError(
      'malformed',
      `${key}: ${err instanceof Error ? err.message : String(err)}`,
    );
  }
}
