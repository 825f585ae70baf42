import type { Clock } from '../../domain/clock.ts';
import { systemClock } from '../../domain/clock.ts';
import type {
  CalendarChanges,
  ConnectInput,
  IncomingPush,
  KnownCalendar,
  PollResult,
  SourceProvider,
} from '../../domain/source.ts';
import { SourceError } from '../../domain/source.ts';
import type { OutboundHttp } from '../../net/outbound-http.ts';
import type { GoogleApi } from './google-api.ts';
import { createGoogleApi } from './google-api.ts';
import { isRemoval, itemOf } from './google-events.ts';
import type { GoogleEvent } from './google-events.ts';
import { listCalendars, listEvents } from './event-pages.ts';
import type { CalendarCursor } from './cursors.ts';
import { readCalendarCursor } from './cursors.ts';
import type { OAuthApp } from './oauth-tokens.ts';
import type { PushSetup } from './watches.ts';
import { CALENDAR_LIST, dropWatches, keepWatches, readWatchCursor, verifyPush } from './watches.ts';
import { AccessTokens } from './oauth-tokens.ts';
import { googleConsent } from './consent.ts';

export interface GoogleProviderDeps {
  readonly http: OutboundHttp;
  /** The Calendar API v3 base, `https://www.googleapis.com/calendar/v3` for Google itself. */
  readonly apiUrl: string;
  readonly oauth: OAuthApp;
  /** The consent page's base: `{authUrl}/o/oauth2/v2/auth`. */
  readonly authUrl?: string | undefined;
  /** When access tokens end; the system clock by default. */
  readonly clock?: Clock | undefined;
  /** Set when calpush can be reached from outside: calendars are watched, not only polled. */
  readonly push?: PushSetup | undefined;
}

export const googleDefaultIntervalMs = 60_000;
export const googleMinIntervalMs = 30_000;

/**
 * A Google Calendar account as a source, through the Calendar API v3: its calendar list,
 * then each calendar's events (series and overrides, not expanded), each event one item
 * keyed by its id with its etag as version.
 *
 * The first listing of a calendar ends with a sync token, its cursor; later polls ask only
 * what changed since. A 410 to a sync token (expired, or the server forgot it) means a full
 * listing, compared with the stored versions so that only the differences are handed on.
 *
 * The credential is a refresh token (stored as the source's password); access tokens are
 * fetched with it, cached, and renewed before they end. A refused refresh (`invalid_grant`)
 * is `auth`: the source is disconnected.
 */
export function createGoogleProvider(deps: GoogleProviderDeps): SourceProvider {
  const clock = deps.clock ?? systemClock;
  const tokens = new AccessTokens(deps.http, clock, deps.oauth);
  const push = deps.push;

  function open(input: ConnectInput): GoogleApi {
    const refreshToken = input.credentials?.password;
    if (!refreshToken) throw new SourceError('auth', 'no refresh token');
    return createGoogleApi(deps.http, clock, tokens, deps.apiUrl, refreshToken);
  }

  return {
    name: 'google',
    defaultIntervalMs: googleDefaultIntervalMs,
    minIntervalMs: googleMinIntervalMs,
    serviceUrl: deps.apiUrl,

    async connect(input) {
      const api = open(input);
      return { cursor: null, calendars: await listCalendars(api) };
    },

    ...(deps.oauth.clientId !== undefined && deps.authUrl !== undefined
      ? { consent: googleConsent(deps.http, clock, deps.oauth, deps.authUrl, deps.oauth.clientId) }
      : {}),
    ...(push
      ? {
          verifyPush: (cursor: unknown, incoming: IncomingPush) =>
            verifyPush(push.secrets, cursor, incoming.channelId, incoming.token),
        }
      : {}),

    async release(input) {
      if (readWatchCursor(input.cursor).watches.length === 0) return;
      await dropWatches(open(input), input.cursor).catch(() => undefined);
    },

    async poll(input): Promise<PollResult> {
      const api = open(input);
      const calendars = await listCalendars(api);
      // Watched before they are read: a change after the read is then pushed, never lost.
      let watched: Awaited<ReturnType<typeof keepWatches>> | null = null;
      if (push && input.sourceId !== undefined) {
        const targets = [CALENDAR_LIST, ...calendars.map((c) => c.remoteId)];
        watched = await keepWatches(api, push, input.sourceId, input.cursor, targets, clock.now());
      } else if (readWatchCursor(input.cursor).watches.length > 0) {
        await dropWatches(api, input.cursor);
      }
      const known = new Map(input.calendars.map((c) => [c.remoteId, c]));
      const changes: CalendarChanges[] = [];
      for (const calendar of calendars) {
        const read = await readCalendar(api, calendar.remoteId, known.get(calendar.remoteId));
        if (read) changes.push(read);
      }
      return { cursor: watched?.cursor ?? null, calendars, changes, pollBy: watched?.pollBy };
    },
  };
}

/** What changed in one calendar, or null when nothing did and its cursor stays. */
async function readCalendar(
  api: GoogleApi,
  remoteId: string,
  known: KnownCalendar | undefined,
): Promise<CalendarChanges | null> {
  const previous = readCalendarCursor(known?.cursor);
  if (previous) {
    const since = await listEvents(api, remoteId, previous.syncToken);
    if (!since.gone) {
      const changed = since.events.filter((e) => !isRemoval(e)).map(itemOf);
      const removed = since.events.filter(isRemoval).map((e) => e.id);
      const cursor = cursorOf(since.syncToken);
      if (
        changed.length === 0 &&
        removed.length === 0 &&
        cursor?.syncToken === previous.syncToken
      ) {
        return null;
      }
      return { remoteId, changed, removed, cursor };
    }
  }
  const full = await listEvents(api, remoteId, null);
  if (full.gone) throw new SourceError('malformed', `events of ${remoteId}: 410 to a full listing`);
  return { remoteId, ...(await differences(full.events, known)), cursor: cursorOf(full.syncToken) };
}

/** A full listing against what is stored: new or changed events, and stored ones gone. */
async function differences(
  events: readonly GoogleEvent[],
  known: KnownCalendar | undefined,
): Promise<Pick<CalendarChanges, 'changed' | 'removed'>> {
  const stored = known ? await known.items() : new Map<string, string>();
  const live = events.filter((e) => !isRemoval(e));
  const changed = live.filter((e) => stored.get(e.id) !== e.version).map(itemOf);
  const present = new Set(live.map((e) => e.id));
  const removed = [...stored.keys()].filter((key) => !present.has(key));
  return { changed, removed };
}

function cursorOf(syncToken: string | null): CalendarCursor | null {
  return syncToken === null ? null : { v: 1, syncToken };
}
