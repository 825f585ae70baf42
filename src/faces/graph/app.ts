import { Hono } from 'hono';
import type { Context } from 'hono';
import type { CoreResources } from '../../core/resources.ts';
import type { GraphEnv } from './context.ts';
import type { HandshakeHttp } from './handshake.ts';
import type { Logger } from '../../log.ts';
import type { TokenBuckets } from '../../domain/rate-limit.ts';
import { authorize } from '../../http/authorize.ts';
import { bearerToken } from '../../http/read-json.ts';
import { GraphError, createGraphErrorHandler } from './errors.ts';
import { subscriptionsRoutes } from './subscriptions-routes.ts';
import { requireSelf } from './own-user.ts';
import { userRoutes } from './user-routes.ts';

export interface GraphFaceOptions {
  readonly logger: Logger;
  /** Per-account request budget, shared with the other faces; undefined for none. */
  readonly rateLimit?: TokenBuckets | undefined;
  /** Reaches receivers for the validation handshake (address rules as for delivery). */
  readonly handshake: HandshakeHttp;
}

/** The Microsoft Graph v1.0 face (calendar events and their subscriptions), under `/v1.0`. */
export function createGraphFace(res: CoreResources, options: GraphFaceOptions) {
  const app = new Hono<GraphEnv>();

  app.use('*', async function authenticateBearer(c, next) {
    const token = bearerToken(c.req.header('authorization'));
    if (!token) throw new GraphError(401, 'InvalidAuthenticationToken', 'Access token is empty.');
    const auth = await authorize(res, token, options.rateLimit);
    if (!auth.ok) {
      c.header('retry-after', String(auth.retryAfterSeconds));
      throw new GraphError(429, 'TooManyRequests', 'Too many requests.');
    }
    c.set('principal', auth.principal);
    await next();
  });

  app.route('/subscriptions', subscriptionsRoutes(res, options.handshake));
  const user = userRoutes(res);
  app.route('/me', user);
  app.use('/users/:userId/*', async function ownAccountOnly(c, next) {
    // Hono has decoded the segment already.
    await requireSelf(res, c.get('principal'), c.req.param('userId'));
    await next();
  });
  app.route('/users/:userId', user);

  // The last route: a path no route matched gets Graph's own 400, as Graph answers one.
  const unknown = (c: Context) => {
    throw GraphError.invalid(`Resource not found for the segment '${c.req.path}'.`);
  };
  app.all('*', unknown);
  app.onError(createGraphErrorHandler(options.logger));
  return app;
}
