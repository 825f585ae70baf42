import { Hono } from 'hono';
import type { CoreResources } from '../../core/resources.ts';
import type { GraphEnv } from './context.ts';
import { eventsRoutes } from './events-routes.ts';
import { calendarsRoutes } from './calendars-routes.ts';
import { deltaRoutes } from './delta.ts';

/** What `/me` and `/users/{id}` hold: calendars, their events, the calendar view's delta. */
export function userRoutes(res: CoreResources) {
  const app = new Hono<GraphEnv>();
  app.route('/', eventsRoutes(res));
  app.route('/', calendarsRoutes(res));
  app.route('/', deltaRoutes(res));
  return app;
}
