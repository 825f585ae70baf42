import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { createHttpServer, listen } from '../../src/http/node-server.ts';
import type { Config, ConfigOverrides } from '../../src/config/config.ts';
import type { Clock } from '../../src/domain/clock.ts';
import { testResolveHost } from './resolver.ts';
import type { Service } from '../../src/service.ts';
import { loadConfig } from '../../src/config/config.ts';
import { createService } from '../../src/service.ts';
import { createLogger } from '../../src/log.ts';
import type { Logger } from '../../src/log.ts';
import { createClient } from '../../src/core/clients.ts';
import { createAccount } from '../../src/core/accounts.ts';
import { createCronofyChannel } from '../../src/faces/cronofy/channels.ts';
import type { TestEngine } from './postgres.ts';
import { createTestDatabase } from './postgres.ts';

export interface Harness {
  readonly service: Service;
  readonly dataDir: string;
  /** Base URL of a real listening server, when started with `listen: true`. */
  readonly url: string;
  /** The throwaway PostgreSQL database, when the engine is PostgreSQL. */
  readonly databaseUrl?: string | undefined;
  close(): Promise<void>;
}

export interface HarnessOptions {
  readonly clock?: Clock;
  readonly random?: () => number;
  /** Start background delivery (real clock); otherwise tests drive runUntilIdle(). */
  readonly start?: boolean;
  /** Serve over a real socket on loopback (for the official SDKs). */
  readonly listen?: boolean;
  readonly config?: ConfigOverrides;
  readonly env?: NodeJS.ProcessEnv;
  /** The store engine; PostgreSQL gets a fresh database of its own. */
  readonly engine?: TestEngine;
  /** Adjusts settings no flag exposes (the delivery timeout, say). */
  readonly tune?: (config: Config) => Config;
  /** Where the service logs; silent by default. */
  readonly logger?: Logger;
  /** PostgreSQL commits that do not wait for the disk (see createTestDatabase). */
  readonly asyncCommit?: boolean;
}

/** A service on a fresh SQLite file in a temporary directory, dev mode, quiet logs. */
export async function startHarness(options: HarnessOptions = {}): Promise<Harness> {
  const dataDir = mkdtempSync(join(tmpdir(), 'calpush-test-'));
  const database =
    options.engine === 'postgres'
      ? await createTestDatabase({ asyncCommit: options.asyncCommit ?? false })
      : undefined;
  let url = '';
  let server: Server | undefined;
  // Filled in once built; the socket must exist first so its URL can go into the config.
  const holder: { service?: Service } = {};
  const configWith = (publicUrl: string) =>
    loadConfig(
      {
        dev: true,
        dataDir,
        logLevel: 'silent',
        port: 0,
        ...(publicUrl ? { publicUrl } : {}),
        ...(database ? { databaseUrl: database.url } : {}),
        ...options.config,
      },
      options.env ?? {},
    );
  if (options.listen) {
    // The public URL must be known before the service builds next_page links; the server's
    // limits are the configured ones, as `calpush serve` sets them.
    server = createHttpServer({
      // The Node request goes along as env, as `calpush serve` hands it over.
      fetch: (req, env) =>
        holder.service ? holder.service.app.fetch(req, env) : new Response(null, { status: 503 }),
      limits: configWith('').http,
      errorBody: (path, status, message) => holder.service?.errorBody(path, status, message),
    });
    await listen(server, 0, '127.0.0.1');
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }
  const config = configWith(url);
  const service = await createService(options.tune ? options.tune(config) : config, {
    logger: options.logger ?? createLogger('silent'),
    resolveHost: testResolveHost,
    ...(options.clock ? { clock: options.clock } : {}),
    ...(options.random ? { random: options.random } : {}),
  });
  holder.service = service;
  const ready = service;
  if (options.start) await ready.start();
  return {
    service: ready,
    dataDir,
    url,
    databaseUrl: database?.url,
    async close() {
      const listening = server;
      if (listening) {
        listening.closeAllConnections();
        await new Promise<void>((resolve) => listening.close(() => resolve()));
      }
      await ready.stop();
      rmSync(dataDir, { recursive: true, force: true });
      await database?.drop();
    },
  };
}

export interface TestAccount {
  readonly clientId: string;
  readonly clientSecret: string;
  readonly accountId: string;
  readonly accessToken: string;
  readonly calendarId: string;
  readonly profileId: string;
}

export async function createTestAccount(
  service: Service,
  email = 'user@example.com',
): Promise<TestAccount> {
  const client = await createClient(service.core, 'test app');
  const account = await createAccount(service.core, { clientId: client.clientId, email });
  return { ...client, ...account };
}

/** A Cronofy channel on every calendar of the account, application-managed events included. */
export function watchAccount(
  service: Service,
  account: Pick<TestAccount, 'accountId' | 'clientId'>,
  callbackUrl: string,
) {
  return createCronofyChannel(service.core, {
    accountId: account.accountId,
    clientId: account.clientId,
    callbackUrl,
    calendarIds: null,
    onlyManaged: false,
  });
}

export async function addAccount(
  service: Service,
  clientId: string,
  email: string,
): Promise<Omit<TestAccount, 'clientSecret'>> {
  const account = await createAccount(service.core, { clientId, email });
  return { clientId, ...account };
}
