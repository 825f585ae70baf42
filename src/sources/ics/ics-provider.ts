import type { Clock } from '../../domain/clock.ts';
import { systemClock } from '../../domain/clock.ts';
import type {
  CalendarChanges,
  KnownCalendar,
  PollResult,
  RemoteCalendar,
  SourceProvider,
} from '../../domain/source.ts';
import { SourceError } from '../../domain/source.ts';
import type { OutboundHttp } from '../../net/outbound-http.ts';
import type { Feed } from '../ical/split-feed.ts';
import { feedHash, splitFeed } from '../ical/split-feed.ts';
import type { FeedCursor } from './feed-cursor.ts';
import { readFeedCursor, sameCursor } from './feed-cursor.ts';
import { feedUrlOf, nameFromUrl } from './feed-url.ts';
import { fetchFeed } from './fetch-feed.ts';

/**
 * An ICS feed as a source: one calendar (remoteId = the feed URL after `feedUrlOf`), its
 * items keyed by UID with a hash of each object's canonical text as version.
 *
 * A poll is a conditional GET (If-None-Match, If-Modified-Since). A 304 costs no body and
 * changes nothing. A 200 whose body hashes as before (DTSTAMP lines aside) changes nothing
 * either; otherwise the feed is split by UID and each object's version compared with the
 * stored ones: new or different objects are `changed`, stored keys gone from the feed are
 * `removed`. Only the changed objects are turned into events.
 *
 * A calendar appears in `changes` when it has items to apply or when its cursor moved (new
 * validators, the first poll), with empty `changed` and `removed` in the latter case, so that
 * the core stores the cursor. The provider's own cursor is always null.
 *
 * Intervals: 15 minutes by default, 1 minute at least (feeds are whole downloads when their
 * server ignores conditional requests). A feed's REFRESH-INTERVAL / X-PUBLISHED-TTL is kept
 * in its calendar cursor (`refreshIntervalOf` in feed-cursor.ts); the scheduler does not use
 * it yet.
 */

export interface IcsProviderDeps {
  readonly http: OutboundHttp;
  /** For Retry-After dates; the system clock by default. */
  readonly clock?: Clock | undefined;
}

export const icsDefaultIntervalMs = 15 * 60_000;
export const icsMinIntervalMs = 60_000;

function calendarOf(url: string, cursor: FeedCursor): RemoteCalendar {
  return { remoteId: url, name: cursor.name, color: null, timeZone: cursor.timeZone };
}

function cursorOf(
  feed: Feed,
  url: string,
  fields: Omit<FeedCursor, 'name' | 'timeZone' | 'refreshIntervalMs'>,
): FeedCursor {
  return {
    ...fields,
    name: feed.name ?? nameFromUrl(url),
    timeZone: feed.timeZone,
    refreshIntervalMs: feed.refreshIntervalMs,
  };
}

/** Connect accepts a feed only when every object in it reads (the first poll would fail). */
function checkEveryObject(feed: Feed): void {
  for (const object of feed.objects) object.item();
}

type ItemChanges = Pick<CalendarChanges, 'changed' | 'removed'>;
const noChanges: ItemChanges = { changed: [], removed: [] };

/** The poll's answer: the calendar always, its changes when it has items or a new cursor. */
function pollResult(
  url: string,
  known: KnownCalendar | undefined,
  previous: FeedCursor | null,
  cursor: FeedCursor,
  items: ItemChanges,
): PollResult {
  const moved =
    !known || items.changed.length > 0 || items.removed.length > 0 || !sameCursor(cursor, previous);
  return {
    cursor: null,
    calendars: [calendarOf(url, cursor)],
    changes: moved ? [{ remoteId: url, ...items, cursor }] : [],
  };
}

async function diff(feed: Feed, known: KnownCalendar | undefined): Promise<ItemChanges> {
  const stored = known ? await known.items() : new Map<string, string>();
  const changed = feed.objects
    .filter((object) => stored.get(object.uid) !== object.version)
    .map((object) => object.item());
  const present = new Set(feed.objects.map((object) => object.uid));
  const removed = [...stored.keys()].filter((key) => !present.has(key));
  return { changed, removed };
}

export function createIcsProvider(deps: IcsProviderDeps): SourceProvider {
  const { http } = deps;
  const clock = deps.clock ?? systemClock;

  return {
    name: 'ics',
    defaultIntervalMs: icsDefaultIntervalMs,
    minIntervalMs: icsMinIntervalMs,

    async connect(input) {
      const url = feedUrlOf(input.url);
      const response = await fetchFeed(http, clock, {
        url,
        credentials: input.credentials,
        validators: null,
      });
      if (response.kind !== 'body') {
        throw new SourceError('unavailable', 'no body to an unconditional GET');
      }
      const feed = splitFeed(response.text);
      checkEveryObject(feed);
      const cursor = cursorOf(feed, url, { etag: null, lastModified: null, bodyHash: '' });
      return { cursor: null, calendars: [calendarOf(url, cursor)] };
    },

    async poll(input): Promise<PollResult> {
      const url = feedUrlOf(input.url);
      const known = input.calendars.find((calendar) => calendar.remoteId === url);
      const previous = readFeedCursor(known?.cursor);
      const validators = previous && (previous.etag || previous.lastModified) ? previous : null;
      const response = await fetchFeed(http, clock, {
        url,
        credentials: input.credentials,
        validators,
      });
      if (response.kind === 'not_modified') {
        // fetchFeed returns this only to a conditional GET, which needs a previous cursor.
        if (!previous) throw new SourceError('unavailable', '304 to an unconditional GET');
        const { etag, lastModified } = response;
        return pollResult(url, known, previous, { ...previous, etag, lastModified }, noChanges);
      }
      const { etag, lastModified } = response;
      const bodyHash = feedHash(response.text);
      if (previous && bodyHash === previous.bodyHash) {
        return pollResult(url, known, previous, { ...previous, etag, lastModified }, noChanges);
      }
      const feed = splitFeed(response.text);
      const cursor = cursorOf(feed, url, { etag, lastModified, bodyHash });
      return pollResult(url, known, previous, cursor, await diff(feed, known));
    },
  };
}
