import type { CalendarChanges, KnownCalendar } from '../../domain/source.ts';
import type { CalendarState } from './calendar-props.ts';
import type { CalendarCursor, SyncSupport } from './cursors.ts';
import { mayHaveChanged, readCalendarCursor } from './cursors.ts';
import type { DavSession } from './dav-session.ts';
import { listEtags } from './etag-listing.ts';
import type { ParseItem } from './multiget.ts';
import { multiget } from './multiget.ts';
import { syncCollection } from './sync-collection.ts';

export interface ChangesRead {
  /** Null when the probe showed nothing new. */
  readonly changes: CalendarChanges | null;
  /** What this read taught about sync-collection. */
  readonly syncCollection: SyncSupport;
}

/**
 * What changed in one calendar the probe listed. Never read before: everything is listed
 * and fetched. Otherwise, when the probe's ctag or sync token moved: sync-collection from
 * the stored token, or an etag diff with the stored versions when the server has no such
 * report or refuses the token. Then calendar-multiget for what changed.
 */
export async function readChanges(
  session: DavSession,
  parseItem: ParseItem,
  calendar: CalendarState,
  known: KnownCalendar | undefined,
  support: SyncSupport,
): Promise<ChangesRead> {
  const before = readCalendarCursor(known?.cursor);
  // Taken before any listing: a change made meanwhile shows again next time, never gets lost.
  const probed: CalendarCursor = { ctag: calendar.ctag, syncToken: calendar.syncToken };
  if (before !== null && !mayHaveChanged(before, probed)) {
    return { changes: null, syncCollection: support };
  }
  const url = calendar.remoteId;
  let learned = support;
  let changedKeys: readonly string[];
  let removed: string[] = [];
  let token = probed.syncToken;
  if (before === null || known === undefined) {
    changedKeys = [...(await listEtags(session, url)).keys()];
  } else {
    const outcome =
      before.syncToken !== null && support !== 'unsupported'
        ? await syncCollection(session, url, before.syncToken)
        : null;
    if (outcome?.kind === 'delta') {
      learned = 'supported';
      changedKeys = outcome.changed;
      removed = [...outcome.removed];
      token = outcome.token ?? token;
    } else {
      if (outcome?.kind === 'unsupported') learned = 'unsupported';
      const diff = etagDiff(await listEtags(session, url), await known.items());
      changedKeys = diff.changed;
      removed = diff.removed;
    }
  }
  const fetched = await multiget(session, url, changedKeys, parseItem);
  removed.push(...fetched.gone);
  return {
    changes: {
      remoteId: url,
      changed: fetched.items,
      removed,
      cursor: { ...probed, syncToken: token },
    },
    syncCollection: learned,
  };
}

function etagDiff(
  upstream: ReadonlyMap<string, string>,
  stored: ReadonlyMap<string, string>,
): { changed: string[]; removed: string[] } {
  const changed = [...upstream].filter(([key, etag]) => stored.get(key) !== etag).map(([k]) => k);
  const removed = [...stored.keys()].filter((key) => !upstream.has(key));
  return { changed, removed };
}
