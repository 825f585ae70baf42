import type { Context, MiddlewareHandler } from 'hono';
import { matchedRoutes, routePath } from 'hono/route';

/** Told of every API request once answered (metrics); must not throw or block. */
export interface RequestObserver {
  observe(method: string, route: string, status: number, seconds: number): void;
}

/**
 * The route pattern a request was answered under (`/v1/calendars/:id/events`), never its raw
 * path: the first matching handler's, or the catch-all's when none matched (`/v1/*`).
 */
function routeOf(c: Context): string {
  const handler = matchedRoutes(c).find((r) => r.method !== 'ALL');
  return handler?.path ?? routePath(c);
}

export function observeRequests(observer: RequestObserver): MiddlewareHandler {
  return async function observeRequest(c, next) {
    const started = performance.now();
    await next();
    observer.observe(c.req.method, routeOf(c), c.res.status, (performance.now() - started) / 1000);
  };
}
