import type { Context } from 'hono';
import type { CoreResources } from '../../core/resources.ts';
import { isZonedDateTime } from '../../domain/time.ts';
import { GoogleError } from './errors.ts';

const SYNC = 'google-sync';
const PAGE = 'google-page';

/** What a sync token remembers: whose list, of what, up to which change. */
interface SyncState {
  readonly a: string;
  readonly r: string;
  readonly s: number;
}

/** What a page token remembers: the list's query, where the snapshot was, where to resume. */
export interface PageState<Q> {
  readonly a: string;
  readonly r: string;
  /** Newest change when the first page was read; the sync token on the last page. */
  readonly snap: number;
  /** Incremental read: only changes after this sequence number. */
  readonly since: number | null;
  readonly after: string | number | null;
  readonly max: number;
  readonly q: Q;
}

export function sealSyncToken(
  res: CoreResources,
  accountId: string,
  resource: string,
  seq: number,
) {
  return res.tokens.seal(SYNC, { a: accountId, r: resource, s: seq } satisfies SyncState);
}

/** The change a sync token resumes after; 410 fullSyncRequired for anything not ours. */
export function openSyncToken(
  res: CoreResources,
  token: string,
  accountId: string,
  resource: string,
): number {
  const state = res.tokens.open<SyncState>(SYNC, token);
  if (!state || state.a !== accountId || state.r !== resource || !Number.isInteger(state.s)) {
    throw GoogleError.fullSyncRequired();
  }
  return state.s;
}

export function sealPageToken<Q>(res: CoreResources, state: PageState<Q>): string {
  return res.tokens.seal(PAGE, state);
}

export function openPageToken<Q>(
  res: CoreResources,
  token: string,
  accountId: string,
  resource: string,
): PageState<Q> {
  const state = res.tokens.open<PageState<Q>>(PAGE, token);
  if (!state || state.a !== accountId || state.r !== resource) {
    throw GoogleError.parameter('pageToken', 'Invalid page token value.');
  }
  return state;
}

/** `maxResults`: a positive integer; larger than the cap reads as the cap, as on Google. */
export function maxResults(c: Context, fallback: number, cap: number): number {
  const value = c.req.query('maxResults');
  if (value === undefined || value === '') return fallback;
  if (!/^\d{1,9}$/.test(value) || Number(value) < 1) {
    throw GoogleError.parameter('maxResults', `Invalid value '${value}'. Values must be >= 1`);
  }
  return Math.min(Number(value), cap);
}

export function boolParam(c: Context, name: string): boolean | undefined {
  const value = c.req.query(name);
  if (value === undefined || value === '') return undefined;
  if (value === 'true') return true;
  if (value === 'false') return false;
  throw GoogleError.parameter(name, `Invalid boolean value: '${value}'.`);
}

export function timeParam(c: Context, name: string): number | undefined {
  const value = c.req.query(name);
  if (value === undefined || value === '') return undefined;
  if (!isZonedDateTime(value)) throw GoogleError.parameter(name, `Bad Request: ${name}`);
  return Date.parse(value);
}

/** A sync token cannot be combined with these filters (Google's rule): 400 naming the first. */
export function rejectWithSyncToken(c: Context, names: readonly string[]): void {
  for (const name of names) {
    if (c.req.query(name) !== undefined) {
      throw GoogleError.parameter(name, `${name} cannot be used together with syncToken.`);
    }
  }
}

/** Quoted etag from a change sequence number, as Google prints them. */
export function etag(seq: number | string): string {
  return `"${seq}"`;
}
