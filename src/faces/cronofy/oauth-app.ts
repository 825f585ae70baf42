import { Hono } from 'hono';
import type { Context } from 'hono';
import { z } from 'zod';
import type { CoreResources } from '../../core/resources.ts';
import type { Logger } from '../../log.ts';
import { CoreError } from '../../core/errors.ts';
import { authenticateClient } from '../../core/clients.ts';
import { revokeAccessTokens } from '../../core/access-tokens.ts';

/** RFC 6749's error body, which Cronofy's OAuth endpoints answer with. */
export function oauthErrorBody(status: number, message: string) {
  const error =
    status === 401 ? 'invalid_client' : status === 404 ? 'not_found' : 'invalid_request';
  return { error, error_description: message };
}

class OAuthError extends Error {
  override name = 'OAuthError';
  readonly status: 400 | 401 | 415;
  constructor(status: OAuthError['status'], message: string) {
    super(message);
    this.status = status;
  }
}

const revokeSchema = z.object({
  client_id: z.string().min(1),
  client_secret: z.string().min(1),
  token: z.string().min(1).optional(),
  // The cronofy SDK's revokeAuthorization sends the refresh token it holds; calpush's one
  // token is the access token, which an application may pass in either field.
  refresh_token: z.string().min(1).optional(),
});

/** Cronofy takes a JSON or a form-encoded body on its OAuth endpoints. */
async function readBody(c: Context): Promise<unknown> {
  const type = (c.req.header('content-type') ?? '').toLowerCase();
  if (type.startsWith('application/x-www-form-urlencoded')) {
    return Object.fromEntries(new URLSearchParams(await c.req.text()));
  }
  if (type.startsWith('application/json')) {
    try {
      return JSON.parse(await c.req.text()) as unknown;
    } catch {
      throw new OAuthError(400, 'the body is not valid JSON');
    }
  }
  throw new OAuthError(415, 'send application/json or application/x-www-form-urlencoded');
}

/**
 * Cronofy's OAuth endpoints, served at `/oauth`: token revocation (RFC 7009), authenticated
 * with the application's client id and secret in the body. Revoking an account's last token
 * closes its channels; a token that is unknown or another application's is answered 200 all
 * the same, as RFC 7009 asks, so the answer tells nothing about it.
 */
export function createCronofyOAuth(res: CoreResources, options: { readonly logger: Logger }) {
  const app = new Hono();
  app.post('/token/revoke', async (c) => {
    const parsed = revokeSchema.safeParse(await readBody(c));
    if (!parsed.success) {
      throw new OAuthError(400, 'client_id, client_secret and token are required');
    }
    const body = parsed.data;
    const token = body.token ?? body.refresh_token;
    if (token === undefined) throw new OAuthError(400, 'token is required');
    await authenticateClient(res, body.client_id, body.client_secret);
    await revokeAccessTokens(res, { token, clientId: body.client_id });
    return c.body(null, 200);
  });
  app.all('*', (c) => c.json(oauthErrorBody(404, 'no such endpoint'), 404));
  app.onError((err, c) => {
    if (err instanceof OAuthError)
      return c.json(oauthErrorBody(err.status, err.message), err.status);
    if (err instanceof CoreError && err.code === 'unauthorized') {
      return c.json(oauthErrorBody(401, 'unknown client or wrong client secret'), 401);
    }
    options.logger.error({ err, path: c.req.path }, 'unexpected error on the OAuth endpoints');
    return c.json({ error: 'server_error', error_description: 'internal error' }, 500);
  });
  return app;
}
