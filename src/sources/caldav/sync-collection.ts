import { SourceError } from '../../domain/source.ts';
import type { DavAnswer, DavSession } from './dav-session.ts';
import { hrefPath, samePath, shownUrl } from './href.ts';
import { parseMultistatus } from './multistatus.ts';
import { escapeXml, ns, parseXml } from './xml-tree.ts';

/** What a sync-collection REPORT (RFC 6578) said. */
export type SyncOutcome =
  /** Hrefs (as keys) changed and removed since the token, and the token to use next. */
  | {
      readonly kind: 'delta';
      readonly changed: readonly string[];
      readonly removed: readonly string[];
      readonly token: string | null;
    }
  /** The server no longer knows the token (expired, or from before a restore). */
  | { readonly kind: 'token_refused'; readonly status: number }
  /** The collection has no sync-collection report. */
  | { readonly kind: 'unsupported'; readonly status: number };

/** A truncated answer (507 on the collection) is continued from its token, this many times. */
const maxPages = 100;

function syncBody(token: string): string {
  return (
    `<?xml version="1.0" encoding="utf-8"?><d:sync-collection xmlns:d="${ns.dav}">` +
    `<d:sync-token>${escapeXml(token)}</d:sync-token><d:sync-level>1</d:sync-level>` +
    '<d:prop><d:getetag/></d:prop></d:sync-collection>'
  );
}

export async function syncCollection(
  session: DavSession,
  calendarUrl: string,
  token: string,
): Promise<SyncOutcome> {
  // Later pages win: an item changed then removed is removed, and the other way round.
  const state = new Map<string, 'changed' | 'removed'>();
  const calendarPath = hrefPath(calendarUrl, calendarUrl);
  let current = token;
  for (let page = 0; page < maxPages; page++) {
    const answer = await session.send({
      method: 'REPORT',
      url: calendarUrl,
      depth: '0',
      body: syncBody(current),
    });
    if (answer.status !== 207) return refusal(answer, session);
    const what = 'sync-collection report';
    const multistatus = parseMultistatus(answer.body, what);
    let truncated = false;
    for (const response of multistatus.responses) {
      const key = hrefPath(response.href, answer.url);
      if (samePath(key, calendarPath)) {
        truncated ||= response.status === 507;
        continue;
      }
      state.set(key, response.status === 404 ? 'removed' : 'changed');
    }
    const next = multistatus.syncToken;
    if (!truncated || next === null || next === current) {
      const keys = (wanted: string) => [...state].filter(([, s]) => s === wanted).map(([k]) => k);
      return { kind: 'delta', changed: keys('changed'), removed: keys('removed'), token: next };
    }
    current = next;
  }
  throw new SourceError('unavailable', `${shownUrl(calendarUrl)}: sync report never ends`);
}

/**
 * Why the report was not answered. A refused token is a 403 with the valid-sync-token
 * precondition (Radicale), 412, 409, 400 or even 500 on other servers: all fall back to an
 * etag diff. 501, 405 or the supported-report precondition mean no such report. Credentials
 * and overload are not the token's fault: those fail the poll.
 */
function refusal(answer: DavAnswer, session: DavSession): SyncOutcome {
  const status = answer.status;
  if ([401, 404, 410, 408, 429, 502, 503, 504].includes(status)) {
    throw session.failure(answer, 'sync-collection report');
  }
  if (status === 501 || status === 405) return { kind: 'unsupported', status };
  if (status === 403 && precondition(answer.body) === 'supported-report') {
    return { kind: 'unsupported', status };
  }
  return { kind: 'token_refused', status };
}

/** The DAV:error precondition an error body names, if it is one. */
function precondition(body: Buffer): string | null {
  try {
    const root = parseXml(body.toString('utf8'), 'error body');
    if (root.ns !== ns.dav || root.name !== 'error') return null;
    return root.children.find((c) => c.ns === ns.dav)?.name ?? null;
  } catch {
    return null;
  }
}
