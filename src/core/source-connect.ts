import { createHash, randomBytes } from 'node:crypto';
import { sameText } from '../domain/same-text.ts';
import type { CoreResources } from './resources.ts';
import type { OAuthConsent } from '../domain/source.ts';
import { SourceError } from '../domain/source.ts';
import { SecretBoxError } from './secret-box.ts';
import { CoreError } from './errors.ts';
import { connectSource } from './sources.ts';

/** A connect link made for an end user works this long. */
export const CONNECT_LINK_MS = 10 * 60_000;
/** The time a user has on the provider's consent page. */
export const CONSENT_MS = 30 * 60_000;
/** The cookie tying a connection's state to the browser that started it. */
export const CONNECT_NONCE_COOKIE = 'calpush_connect';

/** What a browser connection asks for: who connects, and where to send the user back. */
export interface ConnectRequest {
  readonly accountId: string;
  readonly provider: string;
  /** The client's page the user comes back to, with `source_id` and `state`. */
  readonly redirectUri: string;
  /** The client's own value, handed back unchanged. */
  readonly state: string;
}

/** Sealed (encrypted and authenticated), so the PKCE verifier stays secret in the browser. */
interface Sealed extends ConnectRequest {
  readonly purpose: 'link' | 'consent';
  readonly until: number;
  readonly verifier?: string;
  /** The hash of the nonce the starting browser holds in its cookie. */
  readonly nonceHash?: string;
}

const nonceHashOf = (nonce: string) => createHash('sha256').update(nonce).digest('base64url');

function sameNonce(nonce: string | undefined, hash: string | undefined): boolean {
  if (!nonce || !hash) return false;
  return sameText(nonceHashOf(nonce), hash);
}

function consentOf(res: CoreResources, provider: string): OAuthConsent {
  const consent = res.sources.providers.get(provider)?.consent;
  if (!consent) {
    throw new CoreError(
      'invalid',
      `this server has no ${provider} app to connect with (see docs/sources.md)`,
      { field: 'provider' },
    );
  }
  return consent;
}

function checkRedirect(res: CoreResources, redirectUri: string): void {
  let url: URL | null = null;
  if (URL.canParse(redirectUri)) url = new URL(redirectUri);
  const https = url?.protocol === 'https:' || (res.dev && url?.protocol === 'http:');
  if (!url || !https || url.hash !== '') {
    throw new CoreError('invalid', 'must be an absolute https URL without a fragment', {
      field: 'redirect_uri',
    });
  }
}

function seal(res: CoreResources, value: Sealed): string {
  return res.secrets.seal(JSON.stringify(value));
}

function open(res: CoreResources, sealed: string, purpose: Sealed['purpose']): Sealed {
  let value: Sealed;
  try {
    value = JSON.parse(res.secrets.open(sealed)) as Sealed;
  } catch (err) {
    if (!(err instanceof SecretBoxError) && !(err instanceof SyntaxError)) throw err;
    throw new CoreError('invalid', 'not a connect link or state of this server', {
      field: purpose === 'link' ? 'link' : 'state',
    });
  }
  if (value.purpose !== purpose || value.until < res.clock.now()) {
    throw new CoreError('invalid', 'this connect link or state has expired: start again', {
      field: purpose === 'link' ? 'link' : 'state',
    });
  }
  return value;
}

/** Where the provider sends users back to: this server's callback. */
export function connectCallbackUrl(res: CoreResources, provider: string): string {
  return `${res.publicUrl}/v1/sources/connect/${encodeURIComponent(provider)}/callback`;
}

/**
 * A link an end user can open without the account's token (the app's backend makes it and
 * hands it to the browser): it starts the same connection, for ten minutes.
 */
export function makeConnectLink(res: CoreResources, request: ConnectRequest): string {
  consentOf(res, request.provider);
  checkRedirect(res, request.redirectUri);
  const link = seal(res, { ...request, purpose: 'link', until: res.clock.now() + CONNECT_LINK_MS });
  return `${res.publicUrl}/v1/sources/connect/${encodeURIComponent(request.provider)}?link=${encodeURIComponent(link)}`;
}

/** The connection a link stands for, if it is this server's and still valid. */
export function openConnectLink(
  res: CoreResources,
  provider: string,
  link: string,
): ConnectRequest {
  const sealed = open(res, link, 'link');
  if (sealed.provider !== provider) {
    throw new CoreError('invalid', 'this link is for another provider', { field: 'link' });
  }
  return {
    accountId: sealed.accountId,
    provider,
    redirectUri: sealed.redirectUri,
    state: sealed.state,
  };
}

/**
 * The provider's consent page for this connection: PKCE S256, and a state that carries the
 * request and the verifier sealed, so the callback needs no stored session. The `nonce` goes
 * to the browser in a cookie (`CONNECT_NONCE_COOKIE`) and its hash into the state: the
 * callback finishes only in the browser that started, so a state or code another browser
 * got hold of cannot link a calendar to this account, nor bounce through the callback.
 */
export function startConnect(
  res: CoreResources,
  request: ConnectRequest,
): { location: string; nonce: string } {
  const consent = consentOf(res, request.provider);
  checkRedirect(res, request.redirectUri);
  const verifier = randomBytes(32).toString('base64url');
  const nonce = randomBytes(32).toString('base64url');
  const state = seal(res, {
    ...request,
    purpose: 'consent',
    until: res.clock.now() + CONSENT_MS,
    verifier,
    nonceHash: nonceHashOf(nonce),
  });
  const location = consent.consentUrl({
    redirectUri: connectCallbackUrl(res, request.provider),
    state,
    codeChallenge: createHash('sha256').update(verifier).digest('base64url'),
  });
  return { location, nonce };
}

export interface CallbackQuery {
  readonly provider: string;
  readonly code: string | undefined;
  readonly state: string | undefined;
  /** The provider's error (`access_denied` when the user said no). */
  readonly error: string | undefined;
  /** The browser's `CONNECT_NONCE_COOKIE`. */
  readonly nonce: string | undefined;
}

/**
 * The user back from the consent page: the state is checked (this server's, unexpired, for
 * this provider), the code traded for a refresh token with the PKCE verifier, and the source
 * connected. Returns where to send the user: the client's page with `source_id` and `state`,
 * or with `error` when consent was refused or the connection failed. A state that cannot be
 * trusted, or that another browser started, throws (no redirect to an address it names).
 */
export async function finishConnect(res: CoreResources, query: CallbackQuery): Promise<string> {
  if (!query.state) throw new CoreError('invalid', 'no state', { field: 'state' });
  const sealed = open(res, query.state, 'consent');
  if (sealed.provider !== query.provider) {
    throw new CoreError('invalid', 'this state is for another provider', { field: 'state' });
  }
  if (!sameNonce(query.nonce, sealed.nonceHash)) {
    throw new CoreError(
      'invalid',
      'this connection was started in another browser (or its cookie is gone): start again',
      { field: 'state' },
    );
  }
  const back = new URL(sealed.redirectUri);
  back.searchParams.set('state', sealed.state);
  if (query.error !== undefined || !query.code) {
    back.searchParams.set('error', query.error ?? 'invalid_request');
    return back.toString();
  }
  const consent = consentOf(res, sealed.provider);
  try {
    const refreshToken = await consent.exchangeCode({
      code: query.code,
      redirectUri: connectCallbackUrl(res, sealed.provider),
      codeVerifier: sealed.verifier ?? '',
    });
    const source = await connectSource(res, {
      accountId: sealed.accountId,
      provider: sealed.provider,
      refreshToken,
    });
    back.searchParams.set('source_id', source.id);
  } catch (err) {
    if (!(err instanceof SourceError) && !(err instanceof CoreError)) throw err;
    back.searchParams.set('error', err instanceof SourceError ? 'access_denied' : 'server_error');
    back.searchParams.set('error_description', err.message);
  }
  return back.toString();
}
