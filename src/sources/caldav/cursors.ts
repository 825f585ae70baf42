/**
 * What the provider keeps between polls. The core stores both cursors as given (JSON) and
 * hands them back; anything unreadable is treated as absent, which costs a discovery or a
 * full read, never a wrong answer. Neither holds a credential.
 */

/** Whether the server answers sync-collection, as learned so far. */
export type SyncSupport = 'supported' | 'unsupported' | 'unknown';

/** The source's cursor: where to probe, and how. */
export interface SourceCursor {
  readonly v: 1;
  /** The calendar home (or the single calendar) the probe lists. */
  readonly home: string;
  /** The user's URL named one calendar: the probe asks for that collection alone. */
  readonly single: boolean;
  readonly syncCollection: SyncSupport;
}

/** One calendar's cursor: the probe's values when it was last read. */
export interface CalendarCursor {
  readonly ctag: string | null;
  readonly syncToken: string | null;
}

export function readSourceCursor(value: unknown): SourceCursor | null {
  if (typeof value !== 'object' || value === null) return null;
  const c = value as Record<string, unknown>;
  if (c['v'] !== 1 || typeof c['home'] !== 'string' || typeof c['single'] !== 'boolean') {
    return null;
  }
  const sync = c['syncCollection'];
  const syncCollection: SyncSupport =
    sync === 'supported' || sync === 'unsupported' ? sync : 'unknown';
  return { v: 1, home: c['home'], single: c['single'], syncCollection };
}

export function readCalendarCursor(value: unknown): CalendarCursor | null {
  if (typeof value !== 'object' || value === null) return null;
  const c = value as Record<string, unknown>;
  const ctag = c['ctag'];
  const syncToken = c['syncToken'];
  if (ctag !== null && typeof ctag !== 'string') return null;
  if (syncToken !== null && typeof syncToken !== 'string') return null;
  return { ctag, syncToken };
}

/**
 * Whether the probe says a calendar may have changed. A server with neither a ctag nor a
 * sync token gives no cheap answer, so its calendars are always read (by etag diff).
 */
export function mayHaveChanged(before: CalendarCursor, now: CalendarCursor): boolean {
  if (now.ctag === null && now.syncToken === null) return true;
  return before.ctag !== now.ctag || before.syncToken !== now.syncToken;
}
