import { Hono } from 'hono';
import type { Context } from 'hono';
import type { CoreResources } from '../../core/resources.ts';
import type { CronofyEnv } from './context.ts';
import type { TokenBuckets } from '../../domain/rate-limit.ts';
import { createCronofyErrorHandler } from './errors.ts';
import { cronofyPrincipal } from './principal.ts';
import type { Logger } from '../../log.ts';
import { channelsRoutes } from './channels-routes.ts';
import { calendarsRoutes } from './calendars-routes.ts';
import { eventsRoutes } from './events-routes.ts';
import { accountRoutes } from './account-routes.ts';
import { sourcesRoutes } from './sources-routes.ts';
import { sourcesPublicRoutes } from './sources-public-routes.ts';
import { deliveryLogRoutes } from './delivery-log-routes.ts';

export interface CronofyFaceOptions {
  /** Per-account request budget; undefined for none. */
  readonly rateLimit?: TokenBuckets | undefined;
  readonly logger: Logger;
}

/** The Cronofy-compatible face, served under `/v1`. */
export function createCronofyFace(res: CoreResources, options: CronofyFaceOptions) {
  const app = new Hono<CronofyEnv>();

  // Before the bearer check: pushes and the browser's connect steps carry no account token.
  app.route('/sources', sourcesPublicRoutes(res, options));

  app.use('*', async function authenticateBearer(c, next) {
    c.set(
      'principal',
      await cronofyPrincipal(res, c.req.header('authorization'), options.rateLimit),
    );
    await next();
  });

  app.route('/channels', channelsRoutes(res));
  app.route('/calendars', calendarsRoutes(res));
  app.route('/events', eventsRoutes(res, options.logger));
  app.route('/sources', sourcesRoutes(res));
  app.route('/', deliveryLogRoutes(res));
  app.route('/', accountRoutes(res));

  // The last route: a path no route matched (the face's bare prefix too) gets the face's own
  // 404, whether the face stands alone or is routed under the root app.
  const noSuchEndpoint = (c: Context) =>
    c.json(
      { errors: { request: [{ key: 'errors.not_found', description: 'no such endpoint' }] } },
      404,
    );
  app.all('*', noSuchEndpoint);
  app.onError(createCronofyErrorHandler(options.logger));
  return app;
}
