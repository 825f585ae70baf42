import { createServer } from 'node:http';
import type { Server } from 'node:http';

/**
 * A listener of its own for Prometheus (`CALPUSH_METRICS_PORT`): GET /metrics and nothing
 * else, no token. Its protection is where it listens (loopback by default).
 */
export function createMetricsServer(endpoint: {
  readonly contentType: string;
  render(): Promise<string>;
}): Server {
  return createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path !== '/metrics' || (req.method !== 'GET' && req.method !== 'HEAD')) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      return;
    }
    endpoint.render().then(
      (text) => res.writeHead(200, { 'content-type': endpoint.contentType }).end(text),
      () => res.writeHead(500, { 'content-type': 'text/plain' }).end('metrics unavailable\n'),
    );
  });
}
