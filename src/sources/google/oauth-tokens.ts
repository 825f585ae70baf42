import { createHash } from 'node:crypto';
import type { Clock } from '../../domain/clock.ts';
import { parseRetryAfter } from '../../domain/retry-policy.ts';
import { SourceError } from '../../domain/source.ts';
import type { OutboundHttp, OutboundResponse } from '../../net/outbound-http.ts';
import { OutboundError } from '../../net/outbound-http.ts';

/** calpush's own app at the provider: what the token endpoint knows it by. */
export interface OAuthApp {
  /** The token endpoint's base; the endpoint is `{oauthUrl}/token`. */
  readonly oauthUrl: string;
  readonly clientId: string | undefined;
  readonly clientSecret: string | undefined;
}

export interface TokenGrant {
  readonly accessToken: string;
  /** When the access token stops working, by the token endpoint's `expires_in`. */
  readonly expiresAt: number;
  /** Only a code exchange hands one out. */
  readonly refreshToken: string | null;
}

/** Refreshed this long before the end the endpoint gave, so no request carries a dying token. */
export const REFRESH_MARGIN_MS = 5 * 60_000;
/** When the endpoint names no lifetime: Google's own, an hour. */
const DEFAULT_LIFETIME_MS = 60 * 60_000;
/** Cached access tokens at most: one per source this node polls, and then some. */
const MAX_CACHED = 10_000;

function host(url: string): string {
  return URL.canParse(url) ? new URL(url).host : 'the token endpoint';
}

/**
 * Posts a grant to the token endpoint. A refused grant (`invalid_grant`: revoked, expired,
 * or never valid) is `auth`, which disconnects a source; calpush's own app refused
 * (`invalid_client`) is an operator's mistake, tried again later rather than blamed on users.
 */
export async function requestToken(
  http: OutboundHttp,
  clock: Clock,
  app: OAuthApp,
  grant: Record<string, string>,
): Promise<TokenGrant> {
  const url = `${app.oauthUrl}/token`;
  const form = new URLSearchParams(grant);
  if (app.clientId !== undefined) form.set('client_id', app.clientId);
  if (app.clientSecret !== undefined) form.set('client_secret', app.clientSecret);
  let response: OutboundResponse;
  try {
    response = await http.request({
      method: 'POST',
      url,
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        accept: 'application/json',
      },
      body: form.toString(),
    });
  } catch (err) {
    if (!(err instanceof OutboundError)) throw err;
    const kind = err.failure === 'refused' ? 'refused' : 'unavailable';
    throw new SourceError(kind, `${host(url)}: ${err.message}`);
  }
  const body = jsonOf(response.body);
  if (response.status >= 200 && response.status < 300) {
    const accessToken = body?.['access_token'];
    if (typeof accessToken !== 'string' || accessToken === '') {
      throw new SourceError('malformed', `${host(url)} answered no access_token`);
    }
    const expiresIn = Number(body?.['expires_in']);
    const refreshToken = body?.['refresh_token'];
    return {
      accessToken,
      expiresAt:
        clock.now() +
        (Number.isFinite(expiresIn) && expiresIn > 0 ? expiresIn * 1000 : DEFAULT_LIFETIME_MS),
      refreshToken: typeof refreshToken === 'string' && refreshToken !== '' ? refreshToken : null,
    };
  }
  const error = typeof body?.['error'] === 'string' ? body['error'] : `status ${response.status}`;
  const said = `${host(url)} refused the token request: ${error}`;
  if (error === 'invalid_grant') throw new SourceError('auth', said);
  if (response.status === 429 || response.status >= 500) {
    const retryAfterMs = parseRetryAfter(response.headers['retry-after'], clock.now());
    throw new SourceError('unavailable', said, retryAfterMs);
  }
  throw new SourceError('unavailable', said);
}

function jsonOf(body: Buffer): Record<string, unknown> | null {
  try {
    const value = JSON.parse(body.toString('utf8')) as unknown;
    return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/**
 * Access tokens by the refresh token they came from, kept until shortly before they end: a
 * poll every minute asks the token endpoint about once an hour. Keyed by a hash, so the map
 * holds no refresh token.
 */
export class AccessTokens {
  readonly #http: OutboundHttp;
  readonly #clock: Clock;
  readonly #app: OAuthApp;
  readonly #cached = new Map<string, TokenGrant>();
  readonly #asking = new Map<string, Promise<TokenGrant>>();

  constructor(http: OutboundHttp, clock: Clock, app: OAuthApp) {
    this.#http = http;
    this.#clock = clock;
    this.#app = app;
  }

  /** A token valid for a while yet: the cached one, or a new one from the refresh token. */
  async get(refreshToken: string): Promise<string> {
    const key = keyOf(refreshToken);
    const cached = this.#cached.get(key);
    if (cached && cached.expiresAt - REFRESH_MARGIN_MS > this.#clock.now()) {
      return cached.accessToken;
    }
    return (await this.#refresh(key, refreshToken)).accessToken;
  }

  /** Forgets a token the API refused (revoked early): the next get() asks for a new one. */
  drop(refreshToken: string): void {
    this.#cached.delete(keyOf(refreshToken));
  }

  #refresh(key: string, refreshToken: string): Promise<TokenGrant> {
    // Polls of one source never overlap here, but a connect check and a poll may.
    const asking = this.#asking.get(key);
    if (asking) return asking;
    const request = requestToken(this.#http, this.#clock, this.#app, {
      grant_type: 'refresh_token',
      refresh_token: refreshToken,
    })
      .then((grant) => {
        if (this.#cached.size >= MAX_CACHED) this.#evictExpired();
        this.#cached.set(key, grant);
        return grant;
      })
      .catch((err: unknown) => {
        this.#cached.delete(key);
        throw err;
      })
      .finally(() => this.#asking.delete(key));
    this.#asking.set(key, request);
    return request;
  }

  #evictExpired(): void {
    const now = this.#clock.now();
    for (const [key, grant] of this.#cached) if (grant.expiresAt <= now) this.#cached.delete(key);
    // Still full: the oldest entries go (a Map iterates in insertion order).
    for (const key of this.#cached.keys()) {
      if (this.#cached.size < MAX_CACHED) break;
      this.#cached.delete(key);
    }
  }
}

function keyOf(refreshToken: string): string {
  return createHash('sha256').update(refreshToken).digest('base64url');
}
