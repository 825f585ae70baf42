import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import type { Clock } from '../../src/domain/clock.ts';
import type { Service } from '../../src/service.ts';
import { createService } from '../../src/service.ts';
import { loadConfig } from '../../src/config/config.ts';
import { createHttpServer, listen } from '../../src/http/node-server.ts';
import { createLogger } from '../../src/log.ts';
import { testResolveHost } from './resolver.ts';

/**
 * A calpush service on loopback that can be stopped and started again on the same data
 * directory and the same port (its public URL), as an operator restarts one. Background work
 * is not started: tests drive polls and delivery by hand on their clock.
 */
export class RestartableServer {
  readonly dataDir = mkdtempSync(join(tmpdir(), 'calpush-restart-'));
  #service: Service | undefined;
  #server: Server | undefined;
  #port = 0;
  readonly #clock: Clock;
  readonly #env: NodeJS.ProcessEnv;

  constructor(clock: Clock, env: NodeJS.ProcessEnv = {}) {
    this.#clock = clock;
    this.#env = env;
  }

  get service(): Service {
    if (!this.#service) throw new Error('not started');
    return this.#service;
  }

  get url(): string {
    return `http://127.0.0.1:${this.#port}`;
  }

  async start(): Promise<void> {
    const holder: { service?: Service } = {};
    const config = (publicUrl?: string) =>
      loadConfig(
        {
          dev: true,
          dataDir: this.dataDir,
          logLevel: 'silent',
          port: 0,
          ...(publicUrl ? { publicUrl } : {}),
        },
        this.#env,
      );
    const server = createHttpServer({
      fetch: (req, env) =>
        holder.service ? holder.service.app.fetch(req, env) : new Response(null, { status: 503 }),
      limits: config().http,
      errorBody: (path, status, message) => holder.service?.errorBody(path, status, message),
    });
    await listen(server, this.#port, '127.0.0.1');
    this.#port = (server.address() as AddressInfo).port;
    this.#server = server;
    holder.service = await createService(config(this.url), {
      clock: this.#clock,
      logger: createLogger('silent'),
      resolveHost: testResolveHost,
    });
    this.#service = holder.service;
  }

  async stop(): Promise<void> {
    const server = this.#server;
    if (server) {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
    await this.#service?.stop();
    this.#server = undefined;
    this.#service = undefined;
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.start();
  }

  async close(): Promise<void> {
    await this.stop();
    rmSync(this.dataDir, { recursive: true, force: true });
  }
}
