import { Hono } from 'hono';
import type { Context } from 'hono';
import type { CoreResources } from '../../core/resources.ts';
import type { GoogleEnv } from './context.ts';
import type { Logger } from '../../log.ts';
import type { TokenBuckets } from '../../domain/rate-limit.ts';
import { authorize } from '../../http/authorize.ts';
import { bearerToken } from '../../http/read-json.ts';
import { GoogleError, createGoogleErrorHandler } from './errors.ts';
import { aclRoutes } from './acl-routes.ts';
import { calendarListRoutes, calendarsRoutes } from './calendars-routes.ts';
import { channelsRoutes } from './channels-routes.ts';
import { eventsRoutes } from './events-routes.ts';
import { settingsRoutes } from './settings-routes.ts';
import { deliveryLogRoutes } from './delivery-log-routes.ts';

export interface GoogleFaceOptions {
  readonly logger: Logger;
  /** Per-account request budget, shared with the Cronofy face; undefined for none. */
  readonly rateLimit?: TokenBuckets | undefined;
}

/** The Google Calendar API v3 face, served under `/calendar/v3`. */
export function createGoogleFace(res: CoreResources, options: GoogleFaceOptions) {
  const app = new Hono<GoogleEnv>();

  app.use('*', async function authenticateBearer(c, next) {
    // Google also takes the token as the `access_token` query parameter.
    const token = bearerToken(c.req.header('authorization')) ?? c.req.query('access_token');
    const auth = await authorize(res, token || undefined, options.rateLimit);
    if (!auth.ok) {
      c.header('retry-after', String(auth.retryAfterSeconds));
      throw new GoogleError(429, 'rateLimitExceeded', 'Rate Limit Exceeded');
    }
    c.set('principal', auth.principal);
    await next();
  });

  app.route('/calendars/:calendarId/events', eventsRoutes(res, options.logger));
  app.route('/calendars/:calendarId/acl', aclRoutes(res));
  app.route('/calendars', calendarsRoutes(res));
  app.route('/users/me/calendarList', calendarListRoutes(res));
  app.route('/users/me/settings', settingsRoutes(res));
  app.route('/channels', channelsRoutes(res));
  app.route('/calpush', deliveryLogRoutes(res));

  // The last route: a path no route matched (the face's bare prefix too) gets the face's own
  // 404, whether the face stands alone or is routed under the root app.
  const notFound = (c: Context) => c.json(GoogleError.notFound().toJson(), 404);
  app.all('*', notFound);
  app.onError(createGoogleErrorHandler(options.logger));
  return app;
}
