import { Hono } from 'hono';
import type { IncomingMessage } from 'node:http';
import type { MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import type { RequestObserver } from './request-observer.ts';
import { observeRequests } from './request-observer.ts';
import type { MetricsEndpoint } from './metrics-route.ts';
import { routeMetrics } from './metrics-route.ts';
import { requestId } from 'hono/request-id';
import type { Logger } from '../log.ts';
import { logContext } from '../log.ts';

/** A face as the root routes it: its sub-app, and its dialect's error body. */
export interface RoutedFace {
  readonly prefix: string;
  // Each face has its own context variables; route() takes any of them.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  readonly app: Hono<any>;
  readonly errorBody: (status: number, message: string) => unknown;
}

export interface RootAppOptions {
  readonly bodyLimitBytes: number;
  readonly faces: readonly RoutedFace[];
  readonly ready: () => Promise<void>;
  /** Told of every request once answered (route pattern, status, duration). */
  readonly requests?: RequestObserver;
  /** Served at `/metrics` on this app when it has a token. */
  readonly metrics?: MetricsEndpoint;
  /** Where each request is logged (at debug level) with its id. */
  readonly logger?: Logger | undefined;
}

/** The root's own error body, for paths outside every face. */
const rootErrorBody = (status: number, message: string) => ({ error: { code: status, message } });

/** The error body of the face a path falls under (the root's own outside every face). */
export function errorBodyOf(faces: readonly RoutedFace[]) {
  return (path: string, status: number, message: string): unknown =>
    (
      faces.find((face) => path === face.prefix || path.startsWith(`${face.prefix}/`))?.errorBody ??
      rootErrorBody
    )(status, message);
}

/** The root app: size limit, health probes, and each face routed under its prefix. */
export function createRootApp(options: RootAppOptions) {
  const app = new Hono();
  const errorBody = errorBodyOf(options.faces);
  if (options.requests) app.use('*', observeRequests(options.requests));
  // One id per API call (the caller's X-Request-Id if it sent a sane one), echoed back and
  // carried by every log line written while serving it.
  app.use('*', requestId({ limitLength: 64 }));
  app.use('*', function logUnderRequestId(c, next) {
    const id = c.get('requestId');
    return logContext.run({ requestId: id }, async () => {
      const logger = options.logger;
      // Timed only for its debug line: off, the request costs nothing more here.
      if (!logger?.isLevelEnabled('debug')) return next();
      const started = performance.now();
      await next();
      logger.debug(
        {
          method: c.req.method,
          path: c.req.path,
          status: c.res.status,
          ms: Math.round(performance.now() - started),
        },
        'request',
      );
    });
  });
  app.use('*', async function refuseNulInUrl(c, next) {
    // A NUL in a path segment or parameter would reach the store, which on PostgreSQL cannot
    // take it in text: refused here for every route, in the face's format.
    if (/%00/.test(c.req.url)) {
      const message = 'the URL must not contain NUL characters (%00)';
      return c.json(errorBody(c.req.path, 400, message), 400);
    }
    await next();
  });
  app.use(
    '*',
    declaredLengthFirst(
      options.bodyLimitBytes,
      bodyLimit({
        maxSize: options.bodyLimitBytes,
        // Each face answers in its own error format, even before it sees the request.
        onError: (c) => {
          const message = `request body over ${options.bodyLimitBytes} bytes`;
          // The rest of the body is not read: the connection cannot carry another request.
          // Said so, a pooled client opens a new one instead of reusing this one as it closes.
          c.header('connection', 'close');
          return c.json(errorBody(c.req.path, 413, message), 413);
        },
      }),
    ),
  );
  app.get('/healthz', (c) => c.json({ status: 'ok' }));
  app.get('/readyz', async (c) => {
    try {
      await options.ready();
      return c.json({ status: 'ready' });
    } catch {
      return c.json({ status: 'unavailable' }, 503);
    }
  });
  if (options.metrics) routeMetrics(app, options.metrics);
  for (const face of options.faces) {
    // Routed, not mounted: a mounted app is handed a new Request per call, and building it
    // (with a web stream for the body) cost as much as the rest of a small API request.
    // Errors still go through the face's own handler (route() wraps each of its handlers).
    app.route(face.prefix, face.app);
  }
  // Paths under a face never get here: each face ends with a catch-all in its own format.
  app.notFound((c) => c.json(rootErrorBody(404, 'not found'), 404));
  app.onError((_err, c) => c.json(rootErrorBody(500, 'internal error'), 500));
  return app;
}

/**
 * A request read from a socket is checked from its headers alone when it can be: a declared
 * length against the limit, and no length and no chunked encoding means no body (HTTP/1.1).
 * Only a chunked body goes through `streaming`, which has to read it as a web stream; reading
 * every body that way would cost as much as the rest of a small request. A request handed
 * in without a socket (in process) always goes through `streaming`.
 */
function declaredLengthFirst(maxBytes: number, streaming: MiddlewareHandler): MiddlewareHandler {
  return async (c, next) => {
    const incoming = (c.env as { incoming?: IncomingMessage } | undefined)?.incoming;
    if (!incoming) return streaming(c, next);
    const declared = incoming.headers['content-length'];
    const chunked = incoming.headers['transfer-encoding'] !== undefined;
    if (chunked || (declared !== undefined && Number(declared) > maxBytes)) {
      return streaming(c, next);
    }
    return next();
  };
}
