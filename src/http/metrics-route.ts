import { sameTextAnyLength } from '../domain/same-text.ts';
import { bearerToken } from './read-json.ts';
import type { Hono } from 'hono';

/** What `/metrics` serves: the exposition text, and the token a scrape must bear. */
export interface MetricsEndpoint {
  /** Without a token, `/metrics` is not served on the main port (404). */
  readonly token: string | undefined;
  readonly contentType: string;
  render(): Promise<string>;
}

/** GET /metrics behind the operator's bearer token. */
export function routeMetrics(app: Hono, endpoint: MetricsEndpoint): void {
  const { token } = endpoint;
  if (token === undefined) return;
  app.get('/metrics', async (c) => {
    if (!sameTextAnyLength(bearerToken(c.req.header('authorization')) ?? '', token)) {
      c.header('www-authenticate', 'Bearer realm="calpush metrics"');
      return c.json(
        { error: { code: 401, message: 'a valid metrics bearer token is required' } },
        401,
      );
    }
    return c.body(await endpoint.render(), 200, { 'content-type': endpoint.contentType });
  });
}
