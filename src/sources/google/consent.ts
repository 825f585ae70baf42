import type { Clock } from '../../domain/clock.ts';
import type { OAuthConsent } from '../../domain/source.ts';
import { SourceError } from '../../domain/source.ts';
import type { OutboundHttp } from '../../net/outbound-http.ts';
import type { OAuthApp } from './oauth-tokens.ts';
import { requestToken } from './oauth-tokens.ts';

/** Read-only access to calendars: all calpush ever needs. */
export const GOOGLE_READONLY_SCOPE = 'https://www.googleapis.com/auth/calendar.readonly';

/**
 * Google's consent page for calpush's app: offline access (a refresh token) to read the
 * user's calendars, asked again each time (`prompt=consent`) so a refresh token always comes
 * back, with a PKCE S256 challenge.
 */
export function googleConsent(
  http: OutboundHttp,
  clock: Clock,
  app: OAuthApp,
  authUrl: string,
  clientId: string,
): OAuthConsent {
  return {
    consentUrl({ redirectUri, state, codeChallenge }) {
      const query = new URLSearchParams({
        client_id: clientId,
        redirect_uri: redirectUri,
        response_type: 'code',
        scope: GOOGLE_READONLY_SCOPE,
        access_type: 'offline',
        prompt: 'consent',
        include_granted_scopes: 'true',
        code_challenge: codeChallenge,
        code_challenge_method: 'S256',
        state,
      });
      return `${authUrl}/o/oauth2/v2/auth?${query.toString()}`;
    },

    async exchangeCode({ code, redirectUri, codeVerifier }) {
      const grant = await requestToken(http, clock, app, {
        grant_type: 'authorization_code',
        code,
        redirect_uri: redirectUri,
        code_verifier: codeVerifier,
      });
      if (grant.refreshToken === null) {
        throw new SourceError('auth', 'the provider granted no refresh token (offline access)');
      }
      return grant.refreshToken;
    },
  };
}
