import { createServer } from 'node:http';
import type { IncomingMessage, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { once } from 'node:events';

/**
 * A reverse proxy on loopback in front of another server, counting the requests it passes
 * by path: how often a downstream asked its upstream for something.
 */
export class CountingProxy {
  readonly paths: string[] = [];
  /** Requests whose path ends so are answered 503 without reaching the target. */
  refusing: string | null = null;
  readonly #target: string;
  readonly #server: Server;

  constructor(target: string) {
    this.#target = target;
    this.#server = createServer((req, res) => {
      const path = new URL(req.url ?? '/', 'http://proxy').pathname;
      this.paths.push(path);
      if (this.refusing !== null && path.endsWith(this.refusing)) {
        res.writeHead(503, { 'content-type': 'application/json' }).end('{}');
        return;
      }
      void forward(this.#target, req).then(
        ({ status, type, body }) => res.writeHead(status, { 'content-type': type }).end(body),
        () => res.writeHead(502).end(),
      );
    });
  }

  async start(): Promise<void> {
    this.#server.listen(0, '127.0.0.1');
    await once(this.#server, 'listening');
  }

  get url(): string {
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }

  count(pathEnd: string): number {
    return this.paths.filter((p) => p.endsWith(pathEnd)).length;
  }

  close(): Promise<void> {
    this.#server.closeAllConnections();
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }
}

async function forward(target: string, req: IncomingMessage) {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const headers: Record<string, string> = {};
  for (const name of ['authorization', 'content-type', 'accept']) {
    const value = req.headers[name];
    if (typeof value === 'string') headers[name] = value;
  }
  const response = await fetch(`${target}${req.url ?? '/'}`, {
    method: req.method ?? 'GET',
    headers,
    ...(chunks.length > 0 ? { body: Buffer.concat(chunks) } : {}),
  });
  return {
    status: response.status,
    type: response.headers.get('content-type') ?? 'application/octet-stream',
    body: Buffer.from(await response.arrayBuffer()),
  };
}
