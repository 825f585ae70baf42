import type { Clock } from '../../domain/clock.ts';
import { parseRetryAfter } from '../../domain/retry-policy.ts';
import type { SourceCredentials } from '../../domain/source.ts';
import { SourceError } from '../../domain/source.ts';
import type { OutboundHttp, OutboundResponse } from '../../net/outbound-http.ts';
import { OutboundError } from '../../net/outbound-http.ts';
import { looksLikeICalendar, quote } from '../ical/read-icalendar.ts';

/** What makes a GET conditional: the last answer's ETag and Last-Modified. */
export interface FeedValidators {
  readonly etag: string | null;
  readonly lastModified: string | null;
}

export type FeedResponse =
  /** 304: the feed is as it was; no body was sent. */
  | ({ readonly kind: 'not_modified' } & FeedValidators)
  | ({ readonly kind: 'body'; readonly text: string } & FeedValidators);

export interface FetchFeedInput {
  readonly url: string;
  readonly credentials: SourceCredentials | null;
  /** null: an unconditional GET. */
  readonly validators: FeedValidators | null;
}

/** Redirects followed before giving up; each hop goes through the same address guard. */
const maxRedirects = 5;
const redirects = new Set([301, 302, 303, 307, 308]);

function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return 'the feed';
  }
}

/**
 * What an answer means for a source. Messages name the host only: a feed's path often
 * carries a secret token, and the message becomes the source's visible last_error.
 */
function statusError(response: OutboundResponse, url: string, now: number): SourceError {
  const { status } = response;
  const said = `${hostOf(url)} answered ${status}`;
  if (status === 401 || status === 403) return new SourceError('auth', `${said}: access refused`);
  if (status === 404 || status === 410)
    return new SourceError('not_found', `${said}: no feed here`);
  if (status === 408 || status === 429 || status >= 500) {
    const retryAfterMs = parseRetryAfter(response.headers['retry-after'], now);
    return new SourceError('unavailable', `${said}; will try again`, retryAfterMs);
  }
  if (status >= 400) return new SourceError('not_found', `${said}: not a feed calpush can read`);
  return new SourceError('unavailable', `${said}, which is not a feed answer`);
}

function transportError(err: unknown, url: string): SourceError {
  if (!(err instanceof OutboundError)) {
    return new SourceError('unavailable', `${hostOf(url)}: ${String(err)}`);
  }
  switch (err.failure) {
    case 'refused':
      return new SourceError('refused', `${hostOf(url)} may not be fetched: ${err.message}`);
    case 'too_large':
      return new SourceError(
        'malformed',
        `the feed at ${hostOf(url)} is too large: ${err.message}`,
      );
    case 'timeout':
    case 'network':
      return new SourceError('unavailable', `${hostOf(url)}: ${err.message}`);
  }
}

function requestHeaders(input: FetchFeedInput, sameOrigin: boolean): Record<string, string> {
  const headers: Record<string, string> = { accept: 'text/calendar, */*;q=0.5' };
  if (input.validators?.etag) headers['if-none-match'] = input.validators.etag;
  if (input.validators?.lastModified) headers['if-modified-since'] = input.validators.lastModified;
  // Credentials go to the feed's own origin only, never to where it redirects elsewhere.
  if (input.credentials && sameOrigin) {
    const { username, password } = input.credentials;
    headers.authorization = `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
  }
  return headers;
}

/**
 * GETs a feed, conditionally when validators are given, following redirects. A 2xx whose
 * body does not open with BEGIN:VCALENDAR (a login page, an HTML error) is `not_found`:
 * nothing calendar-like is at the URL. Throws SourceError for every failure.
 */
export async function fetchFeed(
  http: OutboundHttp,
  clock: Clock,
  input: FetchFeedInput,
): Promise<FeedResponse> {
  if (!URL.canParse(input.url)) throw new SourceError('not_found', 'the feed address is not a URL');
  const origin = new URL(input.url).origin;
  let url = input.url;
  for (let hop = 0; ; hop++) {
    let response: OutboundResponse;
    try {
      const sameOrigin = new URL(url).origin === origin;
      response = await http.request({
        method: 'GET',
        url,
        headers: requestHeaders(input, sameOrigin),
      });
    } catch (err) {
      throw transportError(err, url);
    }
    const { status, headers } = response;
    const location = headers.location;
    if (redirects.has(status) && location) {
      const next = URL.canParse(location, url) ? new URL(location, url).href : undefined;
      if (!next || hop >= maxRedirects) {
        const why = next ? `more than ${maxRedirects} redirects` : 'a redirect to no URL';
        throw new SourceError('unavailable', `${hostOf(input.url)}: ${why}`);
      }
      url = next;
      continue;
    }
    const etag = headers.etag ?? null;
    const lastModified = headers['last-modified'] ?? null;
    if (status === 304 && input.validators) {
      return {
        kind: 'not_modified',
        etag: etag ?? input.validators.etag,
        lastModified: lastModified ?? input.validators.lastModified,
      };
    }
    if (status < 200 || status > 299) throw statusError(response, url, clock.now());
    const text = response.body.toString('utf8');
    if (!looksLikeICalendar(text)) {
      const type = headers['content-type'] ?? 'no content type';
      throw new SourceError(
        'not_found',
        `${hostOf(url)} answered ${type}, not iCalendar: the body starts with ${quote(text.trimStart(), 40)}`,
      );
    }
    return { kind: 'body', text, etag, lastModified };
  }
}
