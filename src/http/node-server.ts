import { STATUS_CODES, createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { getRequestListener } from '@hono/node-server';
import type { Http2Bindings, HttpBindings } from '@hono/node-server';

/** How long and how many connections one client may hold. */
export interface ConnectionLimits {
  /** The whole request, headers and body, must arrive within this; else 408 and closed. */
  readonly requestTimeoutMs: number;
  /** Connections open at once; more are refused as they arrive. */
  readonly maxConnections: number;
}

export interface HttpServerOptions {
  readonly fetch: (
    request: Request,
    env: HttpBindings | Http2Bindings,
  ) => Response | Promise<Response>;
  readonly limits: ConnectionLimits;
  /** The error body of the face a path falls under, for errors answered before any handler. */
  readonly errorBody: (path: string, status: number, message: string) => unknown;
}

/**
 * The HTTP server both `calpush serve` and the tests listen with. Node's defaults let a client
 * take 5 minutes to send a body and hold any number of connections; these limits do not.
 */
export function createHttpServer(options: HttpServerOptions): Server {
  const { requestTimeoutMs, maxConnections } = options.limits;
  // The listener settles every request itself (errors become responses): nothing to await.
  const handle = getRequestListener(options.fetch);
  const server = createServer(
    {
      requestTimeout: requestTimeoutMs,
      // Node refuses a headers timeout longer than the request timeout.
      headersTimeout: requestTimeoutMs,
      // Node checks timeouts on this interval (30 s by default): a tenth of the timeout.
      connectionsCheckingInterval: Math.min(1000, Math.max(10, Math.floor(requestTimeoutMs / 10))),
    },
    (req, res) => void handle(req, res),
  );
  server.maxConnections = maxConnections;
  const inFlight = new WeakMap<Socket, ServerResponse>();
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    inFlight.set(req.socket, res);
    res.once('finish', () => inFlight.delete(req.socket));
  });
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => {
    const res = inFlight.get(socket);
    if (err.code === 'ECONNRESET' || !socket.writable || res?.headersSent) {
      socket.destroy();
      return;
    }
    // Node would answer a bare 408 or 400; the face the request was for answers in its format.
    const status = err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
    const path = pathOf(res?.req.url);
    const message =
      status === 408 ? `request not received within ${requestTimeoutMs} ms` : 'malformed request';
    const body = JSON.stringify(options.errorBody(path, status, message));
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
    socket.destroy();
  });
  return server;
}

function pathOf(url: string | undefined): string {
  if (!url) return '/';
  const query = url.indexOf('?');
  return query < 0 ? url : url.slice(0, query);
}

/** Stops listening, resolving once the connections open now have ended. */
export function close(server: Server): Promise<void> {
  return new Promise<void>((resolve) => server.close(() => resolve()));
}

/** Listens, resolving once the socket is bound (or rejecting with why it could not be). */
export function listen(server: Server, port: number, hostname: string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, hostname, () => {
      server.off('error', reject);
      resolve();
    });
  });
}
