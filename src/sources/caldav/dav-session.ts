import type { Clock } from '../../domain/clock.ts';
import { parseRetryAfter } from '../../domain/retry-policy.ts';
import type { SourceCredentials } from '../../domain/source.ts';
import { SourceError } from '../../domain/source.ts';
import type { OutboundHttp, OutboundResponse } from '../../net/outbound-http.ts';
import { OutboundError } from '../../net/outbound-http.ts';
import { shownUrl } from './href.ts';
import type { Multistatus } from './multistatus.ts';
import { parseMultistatus } from './multistatus.ts';

export interface DavRequest {
  readonly method: 'PROPFIND' | 'REPORT';
  readonly url: string;
  readonly depth?: '0' | '1';
  readonly body: string;
}

export interface DavAnswer extends OutboundResponse {
  /** Where the answer came from, after redirects. */
  readonly url: string;
}

/** WebDAV requests to one server with one set of credentials. */
export interface DavSession {
  /** Sends a request, following redirects; any status comes back. Throws SourceError. */
  send(request: DavRequest): Promise<DavAnswer>;
  /** Sends a request that must be answered 207 Multi-Status, and parses the answer. */
  multistatus(request: DavRequest, what: string): Promise<DavAnswer & Multistatus>;
  /** What an answer other than the one expected means. */
  failure(answer: DavAnswer, what: string): SourceError;
}

const redirectStatuses = new Set([301, 302, 303, 307, 308]);
/** `/.well-known/caldav` needs one; a chain longer than this is a loop or a misconfiguration. */
const maxRedirects = 5;

/**
 * `credentialsOrigin`: the origin of the URL the user gave. The password goes there only,
 * whatever later requests are built from (a redirect's target, a calendar home or principal
 * the server names): another host, or the same one over plain http, gets none.
 */
export function createDavSession(
  http: OutboundHttp,
  credentials: SourceCredentials | null,
  clock: Clock,
  credentialsOrigin: string,
): DavSession {
  const authorization = credentials
    ? `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64')}`
    : undefined;

  async function sendOnce(
    request: DavRequest,
    url: string,
    withCredentials: boolean,
  ): Promise<OutboundResponse> {
    try {
      return await http.request({
        method: request.method,
        url,
        headers: {
          'content-type': 'application/xml; charset=utf-8',
          ...(request.depth === undefined ? {} : { depth: request.depth }),
          ...(authorization === undefined || !withCredentials ? {} : { authorization }),
        },
        body: request.body,
      });
    } catch (err) {
      if (!(err instanceof OutboundError)) throw err;
      const kind = err.failure === 'refused' ? 'refused' : 'unavailable';
      throw new SourceError(kind, `${request.method} ${shownUrl(url)}: ${err.message}`);
    }
  }

  const session: DavSession = {
    async send(request) {
      let url = request.url;
      for (let hops = 0; ; hops++) {
        // Elsewhere the request goes without the password, and is answered as anyone's.
        const response = await sendOnce(request, url, new URL(url).origin === credentialsOrigin);
        const location = response.headers['location'];
        if (!redirectStatuses.has(response.status) || location === undefined) {
          return { ...response, url };
        }
        if (hops === maxRedirects) {
          throw new SourceError('not_found', `${shownUrl(request.url)}: too many redirects`);
        }
        const next = new URL(location, url);
        // The credentials go along; never in clear text after the server had them encrypted.
        if (new URL(url).protocol === 'https:' && next.protocol !== 'https:') {
          throw new SourceError('refused', `${shownUrl(url)} redirects from https to http`);
        }
        url = next.href;
      }
    },

    async multistatus(request, what) {
      const answer = await session.send(request);
      if (answer.status !== 207) throw session.failure(answer, what);
      return { ...answer, ...parseMultistatus(answer.body, what) };
    },

    failure(answer, what) {
      const status = answer.status;
      const message = `${what}: ${shownUrl(answer.url)} answered ${status}`;
      if (status === 401 || status === 403) return new SourceError('auth', message);
      if (status === 408 || status === 429 || status >= 500) {
        // An HTTP-date counts from the server's own Date when it sent one.
        const serverNow = Date.parse(answer.headers['date'] ?? '');
        const now = Number.isNaN(serverNow) ? clock.now() : serverNow;
        const retryAfterMs = parseRetryAfter(answer.headers['retry-after'], now);
        return new SourceError('unavailable', message, retryAfterMs);
      }
      return new SourceError('not_found', message);
    },
  };
  return session;
}
