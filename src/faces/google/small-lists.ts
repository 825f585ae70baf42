import type { Context } from 'hono';
import type { CoreResources } from '../../core/resources.ts';
import { latestSeq } from '../../core/events.ts';
import {
  boolParam,
  maxResults,
  openPageToken,
  openSyncToken,
  rejectWithSyncToken,
  sealPageToken,
  sealSyncToken,
} from './list-params.ts';

/** One row of a short per-account collection (calendar list, ACL, settings). */
export interface Listed<T> {
  readonly key: string;
  readonly seq: number;
  readonly deleted: boolean;
  readonly row: T;
}

export interface SmallListOptions<T> {
  readonly accountId: string;
  /** Names the collection inside tokens, so a token of one list is refused by another. */
  readonly resource: string;
  readonly load: () => Promise<Listed<T>[]>;
  readonly defaultMax: number;
  readonly cap: number;
  /** Parameters that cannot go with a sync token. */
  readonly syncConflicts: readonly string[];
  /** False for settings, which have no deleted rows and no showDeleted parameter. */
  readonly hasDeleted: boolean;
}

export interface ListPage<T> {
  readonly rows: T[];
  readonly snap: number;
  readonly nextPageToken?: string;
  readonly nextSyncToken?: string;
}

/**
 * Lists a short collection with Google's paging and incremental sync. These collections are
 * small per account, so they are read whole and paged in memory by key.
 */
export async function listSmall<T>(
  res: CoreResources,
  c: Context,
  o: SmallListOptions<T>,
): Promise<ListPage<T>> {
  const pageToken = c.req.query('pageToken');
  const syncToken = c.req.query('syncToken');
  let state;
  if (pageToken) {
    state = openPageToken<{ d: boolean }>(res, pageToken, o.accountId, o.resource);
  } else {
    let since: number | null = null;
    let showDeleted = o.hasDeleted && (boolParam(c, 'showDeleted') ?? false);
    if (syncToken) {
      rejectWithSyncToken(c, o.syncConflicts);
      since = openSyncToken(res, syncToken, o.accountId, o.resource);
      showDeleted = true;
    }
    const snap = await latestSeq(res, o.accountId);
    const max = maxResults(c, o.defaultMax, o.cap);
    state = { a: o.accountId, r: o.resource, snap, since, after: null, max, q: { d: showDeleted } };
  }
  const { since, after, max } = state;
  const items = (await o.load())
    .filter((i) => since === null || i.seq > since)
    .filter((i) => state.q.d || !i.deleted)
    .filter((i) => after === null || i.key > String(after))
    .sort((x, y) => (x.key < y.key ? -1 : x.key > y.key ? 1 : 0));
  const page = items.slice(0, max);
  const last = page.at(-1);
  if (items.length > max && last) {
    return {
      rows: page.map((i) => i.row),
      snap: state.snap,
      nextPageToken: sealPageToken(res, { ...state, after: last.key }),
    };
  }
  return {
    rows: page.map((i) => i.row),
    snap: state.snap,
    nextSyncToken: sealSyncToken(res, o.accountId, o.resource, state.snap),
  };
}
