import type { Clock } from '../../domain/clock.ts';
import { parseRetryAfter } from '../../domain/retry-policy.ts';
import { SourceError } from '../../domain/source.ts';
import type { OutboundHttp, OutboundResponse } from '../../net/outbound-http.ts';
import { OutboundError } from '../../net/outbound-http.ts';
import type { AccessTokens } from './oauth-tokens.ts';

export interface ApiRequest {
  readonly method: 'GET' | 'POST';
  /** The path under the API's base URL, with its query. */
  readonly path: string;
  readonly body?: unknown;
}

/** What came back: JSON, or `gone` for a 410 (a sync token the server no longer knows). */
export type ApiAnswer = { readonly gone: false; readonly json: unknown } | { readonly gone: true };

/** Google Calendar API v3 requests for one account, with its refresh token. */
export interface GoogleApi {
  /** Throws SourceError for every failure but a 410. */
  call(request: ApiRequest): Promise<ApiAnswer>;
}

/** Reasons Google gives a 403 for that are quotas, not a refusal of the account. */
const quotaReasons = new Set([
  'rateLimitExceeded',
  'userRateLimitExceeded',
  'quotaExceeded',
  'dailyLimitExceeded',
]);

export function createGoogleApi(
  http: OutboundHttp,
  clock: Clock,
  tokens: AccessTokens,
  apiUrl: string,
  refreshToken: string,
): GoogleApi {
  const host = new URL(apiUrl).host;

  async function send(request: ApiRequest, accessToken: string): Promise<OutboundResponse> {
    try {
      return await http.request({
        method: request.method,
        url: `${apiUrl}${request.path}`,
        headers: {
          authorization: `Bearer ${accessToken}`,
          accept: 'application/json',
          ...(request.body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(request.body === undefined ? {} : { body: JSON.stringify(request.body) }),
      });
    } catch (err) {
      if (!(err instanceof OutboundError)) throw err;
      const kind =
        err.failure === 'refused'
          ? 'refused'
          : err.failure === 'too_large'
            ? 'malformed'
            : 'unavailable';
      throw new SourceError(kind, `${host}: ${err.message}`);
    }
  }

  return {
    async call(request) {
      let response = await send(request, await tokens.get(refreshToken));
      if (response.status === 401) {
        // An access token revoked before its time: one new one, then the answer stands.
        tokens.drop(refreshToken);
        response = await send(request, await tokens.get(refreshToken));
      }
      const { status } = response;
      if (status === 410) return { gone: true };
      if (status >= 200 && status < 300) {
        if (status === 204 || response.body.length === 0) return { gone: false, json: null };
        try {
          return { gone: false, json: JSON.parse(response.body.toString('utf8')) as unknown };
        } catch {
          throw new SourceError('malformed', `${host} answered ${status} with no JSON`);
        }
      }
      throw failure(response, host, clock);
    },
  };
}

function failure(response: OutboundResponse, host: string, clock: Clock): SourceError {
  const { status } = response;
  const reason = reasonOf(response.body);
  const said = `${host} answered ${status}${reason ? ` (${reason})` : ''}`;
  if (status === 429 || status >= 500 || (status === 403 && quotaReasons.has(reason ?? ''))) {
    const retryAfterMs = parseRetryAfter(response.headers['retry-after'], clock.now());
    return new SourceError('unavailable', `${said}; will try again`, retryAfterMs);
  }
  if (status === 401 || status === 403) return new SourceError('auth', `${said}: access refused`);
  if (status === 404) return new SourceError('not_found', said);
  return new SourceError('malformed', said);
}

/** The first error reason of a Google error body, if there is one. */
function reasonOf(body: Buffer): string | null {
  try {
    const json = JSON.parse(body.toString('utf8')) as {
      error?: { errors?: { reason?: unknown }[]; status?: unknown };
    };
    const reason = json.error?.errors?.[0]?.reason ?? json.error?.status;
    return typeof reason === 'string' ? reason : null;
  } catch {
    return null;
  }
}
