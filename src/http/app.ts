import { Hono } from 'hono';
import type { MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';

export interface RootAppOptions {
  readonly bodyLimitBytes: number;
  // Each face has its own context variables; route() takes any of them.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  readonly faces: readonly { prefix: string; app: Hono<any> }[];
  readonly ready: () => Promise<void>;
}

/** The root app: size limit, health probes, and each face routed under its prefix. */
export function createRootApp(options: RootAppOptions) {
  const app = new Hono();
  app.use(
    '*',
    declaredLengthFirst(
      options.bodyLimitBytes,
      bodyLimit({
        maxSize: options.bodyLimitBytes,
        // Each face answers in its own error format, even before it sees the request.
        onError: (c) => {
          const message = `request body over ${options.bodyLimitBytes} bytes`;
          if (c.req.path.startsWith('/v1/')) {
            return c.json(
              { errors: { request: [{ key: 'errors.too_large', description: message }] } },
              413,
            );
          }
          return c.json(
            {
              error: {
                code: 413,
                message,
                errors: [{ domain: 'global', reason: 'requestTooLarge', message }],
              },
            },
            413,
          );
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
  for (const face of options.faces) {
    // Routed, not mounted: a mounted app is handed a new Request per call, and building it
    // (with a web stream for the body) cost as much as the rest of a small API request.
    // Errors still go through the face's own handler (route() wraps each of its handlers).
    app.route(face.prefix, face.app);
  }
  app.notFound((c) => {
    // A path under a face that no route matched: the face answers in its own format.
    const face = options.faces.find((f) => c.req.path.startsWith(`${f.prefix}/`));
    if (face) return face.app.fetch(new Request(c.req.url.replace(face.prefix, ''), c.req.raw));
    return c.json({ error: { code: 404, message: 'not found' } }, 404);
  });
  app.onError((_err, c) => c.json({ error: { code: 500, message: 'internal error' } }, 500));
  return app;
}

/**
 * A body whose length is declared is checked against the limit from its header alone; only
 * a body without one (chunked) goes through `streaming`, which has to read it as a stream.
 * Reading every body through a web stream would cost as much as the rest of a small request.
 */
function declaredLengthFirst(maxBytes: number, streaming: MiddlewareHandler): MiddlewareHandler {
  return async (c, next) => {
    const declared = c.req.header('content-length');
    if (declared !== undefined && c.req.header('transfer-encoding') === undefined) {
      if (Number(declared) > maxBytes) return streaming(c, next);
      return next();
    }
    if (c.req.method === 'GET' || c.req.method === 'HEAD') return next();
    return streaming(c, next);
  };
}
