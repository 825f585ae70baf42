/**
 * What the ICS provider keeps per calendar between polls. The validators make the next GET
 * conditional; the body hash skips the split when a 200 brings the same feed again; name,
 * zone and refresh interval come back unchanged on a 304, which has no body to read them from.
 */
export interface FeedCursor {
  /** ETag of the last 200 (or 304), sent back as If-None-Match. */
  readonly etag: string | null;
  /** Last-Modified of the last 200 (or 304), sent back as If-Modified-Since. */
  readonly lastModified: string | null;
  /** `feedHash` of the last body read: a sha256 that ignores DTSTAMP lines. */
  readonly bodyHash: string;
  readonly name: string;
  readonly timeZone: string | null;
  /**
   * The feed's own REFRESH-INTERVAL (else X-PUBLISHED-TTL) in ms, null when it sets none. A
   * hint for the scheduler (`refreshIntervalOf`), which keeps it within its own bounds.
   */
  readonly refreshIntervalMs: number | null;
}

const stringOrNull = (value: unknown): value is string | null =>
  value === null || typeof value === 'string';

/** A stored cursor if it has the shape above; anything else reads as none (a full poll). */
export function readFeedCursor(value: unknown): FeedCursor | null {
  if (typeof value !== 'object' || value === null) return null;
  const c = value as Record<string, unknown>;
  const ok =
    stringOrNull(c.etag) &&
    stringOrNull(c.lastModified) &&
    typeof c.bodyHash === 'string' &&
    typeof c.name === 'string' &&
    stringOrNull(c.timeZone) &&
    (c.refreshIntervalMs === null || typeof c.refreshIntervalMs === 'number');
  return ok ? (c as unknown as FeedCursor) : null;
}

/** The refresh interval a feed asked for, from its calendar's cursor; null when none. */
export function refreshIntervalOf(cursor: unknown): number | null {
  return readFeedCursor(cursor)?.refreshIntervalMs ?? null;
}

export function sameCursor(a: FeedCursor, b: FeedCursor | null): boolean {
  return (
    b !== null &&
    a.etag === b.etag &&
    a.lastModified === b.lastModified &&
    a.bodyHash === b.bodyHash &&
    a.name === b.name &&
    a.timeZone === b.timeZone &&
    a.refreshIntervalMs === b.refreshIntervalMs
  );
}
