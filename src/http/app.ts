import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';

export interface RootAppOptions {
  readonly bodyLimitBytes: number;
  readonly faces: readonly {
    prefix: string;
    app: { fetch: (request: Request) => Response | Promise<Response> };
  }[];
  readonly ready: () => Promise<void>;
}

/** The root app: size limit, health probes, and each face mounted under its prefix. */
export function createRootApp(options: RootAppOptions) {
  const app = new Hono();
  app.use(
    '*',
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
    // The faces take no env or execution context; without this handler Hono looks the
    // context up by throwing and catching an Error on every request.
    app.mount(face.prefix, face.app.fetch, { optionHandler: () => [] });
  }
  app.notFound((c) => c.json({ error: { code: 404, message: 'not found' } }, 404));
  app.onError((_err, c) => c.json({ error: { code: 500, message: 'internal error' } }, 500));
  return app;
}
