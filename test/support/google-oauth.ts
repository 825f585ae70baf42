import { createHash, randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { IncomingMessage, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { once } from 'node:events';

/** A token request as the stand-in received it. */
export interface TokenRequest {
  readonly grantType: string | null;
  readonly form: URLSearchParams;
}

interface PendingCode {
  readonly challenge: string;
  readonly redirectUri: string;
  readonly refreshToken: string;
}

/**
 * A stand-in for Google's OAuth endpoints on loopback. `/token` turns a known refresh token
 * into the access token it is mapped to (a bearer token of the upstream calpush), with the
 * lifetime set here, or answers `invalid_grant` for a refused one; `/o/oauth2/v2/auth` plays
 * a user who consents at once: it redirects back with a code, which `/token` exchanges
 * (PKCE checked) for a refresh token.
 */
export class GoogleOAuthStandIn {
  readonly clientId = 'calpush-test-app';
  readonly clientSecret = 'calpush-test-secret';
  /** Access tokens by refresh token. */
  readonly grants = new Map<string, string>();
  readonly refused = new Set<string>();
  expiresInSeconds = 3600;
  readonly tokenRequests: TokenRequest[] = [];
  /** Query strings the consent page was opened with. */
  readonly consents: URLSearchParams[] = [];
  /** The refresh token the next consent grants. */
  nextConsentRefreshToken = '';
  readonly #codes = new Map<string, PendingCode>();
  readonly #server: Server;

  constructor() {
    this.#server = createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://stand-in');
      if (req.method === 'GET' && url.pathname === '/o/oauth2/v2/auth') {
        const location = this.#consent(url.searchParams);
        res.writeHead(302, { location }).end();
        return;
      }
      if (req.method === 'POST' && url.pathname === '/token') {
        void bodyOf(req).then((text) => {
          const [status, json] = this.#token(new URLSearchParams(text));
          res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(json));
        });
        return;
      }
      res.writeHead(404).end();
    });
  }

  async start(): Promise<void> {
    this.#server.listen(0, '127.0.0.1');
    await once(this.#server, 'listening');
  }

  get url(): string {
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }

  /** Refresh-token grants asked for so far. */
  get refreshes(): number {
    return this.tokenRequests.filter((r) => r.grantType === 'refresh_token').length;
  }

  #consent(query: URLSearchParams): string {
    this.consents.push(query);
    const code = randomBytes(12).toString('base64url');
    this.#codes.set(code, {
      challenge: query.get('code_challenge') ?? '',
      redirectUri: query.get('redirect_uri') ?? '',
      refreshToken: this.nextConsentRefreshToken,
    });
    const back = new URL(query.get('redirect_uri') ?? 'http://invalid');
    back.searchParams.set('code', code);
    back.searchParams.set('state', query.get('state') ?? '');
    return back.toString();
  }

  #token(form: URLSearchParams): [number, unknown] {
    const grantType = form.get('grant_type');
    this.tokenRequests.push({ grantType, form });
    if (
      form.get('client_id') !== this.clientId ||
      form.get('client_secret') !== this.clientSecret
    ) {
      return [401, { error: 'invalid_client' }];
    }
    if (grantType === 'refresh_token') {
      const refreshToken = form.get('refresh_token') ?? '';
      const accessToken = this.grants.get(refreshToken);
      if (this.refused.has(refreshToken) || accessToken === undefined) {
        return [400, { error: 'invalid_grant', error_description: 'Token has been revoked.' }];
      }
      return [
        200,
        { access_token: accessToken, expires_in: this.expiresInSeconds, token_type: 'Bearer' },
      ];
    }
    if (grantType === 'authorization_code') {
      const pending = this.#codes.get(form.get('code') ?? '');
      this.#codes.delete(form.get('code') ?? '');
      const verifier = form.get('code_verifier') ?? '';
      const challenge = createHash('sha256').update(verifier).digest('base64url');
      if (
        !pending ||
        pending.challenge !== challenge ||
        pending.redirectUri !== form.get('redirect_uri')
      ) {
        return [400, { error: 'invalid_grant', error_description: 'Bad code or verifier.' }];
      }
      const accessToken = this.grants.get(pending.refreshToken) ?? '';
      return [
        200,
        {
          access_token: accessToken,
          refresh_token: pending.refreshToken,
          expires_in: this.expiresInSeconds,
          token_type: 'Bearer',
          scope: 'https://www.googleapis.com/auth/calendar.readonly',
        },
      ];
    }
    return [400, { error: 'unsupported_grant_type' }];
  }

  close(): Promise<void> {
    this.#server.closeAllConnections();
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }
}

async function bodyOf(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
