import type { Clock } from '../../domain/clock.ts';
import { systemClock } from '../../domain/clock.ts';
import type {
  CalendarChanges,
  ConnectInput,
  RemoteCalendar,
  SourceCredentials,
  SourceProvider,
} from '../../domain/source.ts';
import { SourceError } from '../../domain/source.ts';
import type { OutboundHttp } from '../../net/outbound-http.ts';
import { readChanges } from './calendar-changes.ts';
import type { CalendarState } from './calendar-props.ts';
import { calendarOf, probeBody } from './calendar-props.ts';
import type { SourceCursor, SyncSupport } from './cursors.ts';
import { readSourceCursor } from './cursors.ts';
import type { DavSession } from './dav-session.ts';
import { createDavSession } from './dav-session.ts';
import type { Discovered } from './discovery.ts';
import { discover } from './discovery.ts';
import type { ParseItem } from './multiget.ts';

export type { ParseItem } from './multiget.ts';

export interface CaldavProviderDeps {
  readonly http: OutboundHttp;
  /** The shared iCalendar parser: one resource's text → one item of events. */
  readonly parseItem: ParseItem;
  /** Read only to turn a Retry-After date into a delay when the server sent no Date. */
  readonly clock?: Clock;
  readonly defaultIntervalMs?: number;
  readonly minIntervalMs?: number;
}

export function createCaldavProvider(deps: CaldavProviderDeps): SourceProvider {
  const clock = deps.clock ?? systemClock;

  function open(input: ConnectInput): { session: DavSession; url: string } {
    const { url, credentials } = splitCredentials(input);
    return {
      session: createDavSession(deps.http, credentials, clock, new URL(url).origin),
      url,
    };
  }

  return {
    name: 'caldav',
    defaultIntervalMs: deps.defaultIntervalMs ?? 5 * 60_000,
    minIntervalMs: deps.minIntervalMs ?? 60_000,

    async connect(input) {
      const { session, url } = open(input);
      const found = await discover(session, url);
      return { cursor: cursorOf(found), calendars: found.calendars.map(remoteCalendar) };
    },

    async poll(input) {
      const { session, url } = open(input);
      let source = readSourceCursor(input.cursor);
      let calendars: readonly CalendarState[];
      if (source === null) {
        const found = await discover(session, url);
        source = cursorOf(found);
        calendars = found.calendars;
      } else {
        calendars = await probe(session, source);
      }
      const known = new Map(input.calendars.map((c) => [c.remoteId, c]));
      let support = source.syncCollection;
      const changes: CalendarChanges[] = [];
      for (const calendar of calendars) {
        const read = await readChanges(
          session,
          deps.parseItem,
          calendar,
          known.get(calendar.remoteId),
          support,
        );
        support = read.syncCollection;
        if (read.changes) changes.push(read.changes);
      }
      return {
        cursor: { ...source, syncCollection: support } satisfies SourceCursor,
        calendars: calendars.map(remoteCalendar),
        changes,
      };
    },
  };
}

/**
 * The one request of an idle poll: the home's calendars (Depth 1) with their ctag and sync
 * token, or the single calendar alone (Depth 0). Its size depends on the number of
 * calendars, never on their contents.
 */
async function probe(session: DavSession, source: SourceCursor): Promise<CalendarState[]> {
  const answer = await session.multistatus(
    { method: 'PROPFIND', url: source.home, depth: source.single ? '0' : '1', body: probeBody },
    'probe',
  );
  return answer.responses.map((r) => calendarOf(r, answer.url)).filter((c) => c !== null);
}

function cursorOf(found: Discovered): SourceCursor {
  const reports = found.calendars.map((c) => c.syncReport);
  const syncCollection: SyncSupport = reports.includes(true)
    ? 'supported'
    : reports.includes(false)
      ? 'unsupported'
      : 'unknown';
  return { v: 1, home: found.home, single: found.single, syncCollection };
}

function remoteCalendar(calendar: CalendarState): RemoteCalendar {
  const { remoteId, name, color, timeZone } = calendar;
  return { remoteId, name, color, timeZone };
}

/**
 * The URL without any user name and password in it; those serve as the credentials when
 * none were given apart, so they never reach a message or a cursor.
 */
function splitCredentials(input: ConnectInput): {
  url: string;
  credentials: SourceCredentials | null;
} {
  let url: URL;
  try {
    url = new URL(input.url);
  } catch {
    throw new SourceError('not_found', 'the source URL is not a valid URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new SourceError('refused', `unsupported scheme ${url.protocol}`);
  }
  const fromUrl =
    url.username === ''
      ? null
      : { username: decoded(url.username), password: decoded(url.password) };
  url.username = '';
  url.password = '';
  url.hash = '';
  return { url: url.href, credentials: input.credentials ?? fromUrl };
}

function decoded(component: string): string {
  try {
    return decodeURIComponent(component);
  } catch {
    return component;
  }
}
