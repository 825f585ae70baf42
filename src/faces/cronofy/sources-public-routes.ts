import { Hono } from 'hono';
import type { Context } from 'hono';
import type { CoreResources } from '../../core/resources.ts';
import type { TokenBuckets } from '../../domain/rate-limit.ts';
import type { CronofyEnv } from './context.ts';
import type { ConnectRequest } from '../../core/source-connect.ts';
import { acceptSourcePush } from '../../core/source-push.ts';
import {
  CONNECT_NONCE_COOKIE,
  CONSENT_MS,
  connectCallbackUrl,
  finishConnect,
  openConnectLink,
  startConnect,
} from '../../core/source-connect.ts';
import { CoreError } from '../../core/errors.ts';
import { cookieValue } from '../../http/cookies.ts';
import { cronofyPrincipal } from './principal.ts';

/** A query parameter the request must carry. */
function required(c: Context<CronofyEnv>, name: string): string {
  const value = c.req.query(name);
  if (!value) throw new CoreError('invalid', `${name} is required`, { field: name });
  return value;
}

/**
 * The connection's nonce cookie: sent only to the callback, and (SameSite=Lax) on the
 * provider's top-level redirect back but not on requests other sites make.
 */
function nonceCookie(res: CoreResources, provider: string, value: string, maxAge: number) {
  const url = new URL(connectCallbackUrl(res, provider));
  const secure = url.protocol === 'https:' ? '; Secure' : '';
  return `${CONNECT_NONCE_COOKIE}=${value}; Path=${url.pathname}; HttpOnly; SameSite=Lax; Max-Age=${maxAge}${secure}`;
}

/**
 * What reaches `/v1/sources` without an account's bearer token: a provider's pushes (Google's
 * watch channels, checked by their channel's token), and the browser side of connecting an
 * account (a signed link, the provider's callback, checked by their sealed state).
 */
export function sourcesPublicRoutes(
  res: CoreResources,
  options: { rateLimit?: TokenBuckets | undefined },
) {
  const app = new Hono<CronofyEnv>();

  app.post('/:provider/push/:sourceId', async (c) => {
    await acceptSourcePush(res, {
      provider: c.req.param('provider'),
      sourceId: c.req.param('sourceId'),
      channelId: c.req.header('x-goog-channel-id') ?? '',
      token: c.req.header('x-goog-channel-token') ?? '',
      resourceState: c.req.header('x-goog-resource-state') ?? '',
    });
    return c.body(null, 200);
  });

  app.get('/connect/:provider/callback', async (c) => {
    const provider = c.req.param('provider');
    const location = await finishConnect(res, {
      provider,
      code: c.req.query('code'),
      state: c.req.query('state'),
      error: c.req.query('error'),
      nonce: cookieValue(c.req.header('cookie'), CONNECT_NONCE_COOKIE),
    });
    c.header('set-cookie', nonceCookie(res, provider, '', 0));
    return c.redirect(location, 302);
  });

  // With the account's bearer token (an app's own page), or a link an app made for its user.
  app.get('/connect/:provider', async (c) => {
    const provider = c.req.param('provider');
    const link = c.req.query('link');
    let request: ConnectRequest;
    if (link) {
      request = openConnectLink(res, provider, link);
    } else {
      const principal = await cronofyPrincipal(
        res,
        c.req.header('authorization'),
        options.rateLimit,
      );
      request = {
        accountId: principal.accountId,
        provider,
        redirectUri: required(c, 'redirect_uri'),
        state: required(c, 'state'),
      };
    }
    const started = startConnect(res, request);
    c.header('set-cookie', nonceCookie(res, provider, started.nonce, CONSENT_MS / 1000));
    return c.redirect(started.location, 302);
  });

  return app;
}
