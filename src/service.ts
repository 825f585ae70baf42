import { EventEmitter } from 'node:events';
import type { Config } from './config/config.ts';
import type { Clock } from './domain/clock.ts';
import type { Logger } from './log.ts';
import type { CoreResources } from './core/resources.ts';
import { MAX_CACHED_TOKENS, PrincipalCache } from './core/principal-cache.ts';
import { tokenRevocationCount } from './store/token-revocations.ts';
import type { Store } from './store/store.ts';
import { systemClock } from './domain/clock.ts';
import { defaultRetryPolicy } from './domain/retry-policy.ts';
import { TokenBuckets } from './domain/rate-limit.ts';
import { createLogger } from './log.ts';
import type { ResolveHost } from './core/callback-url.ts';
import { systemResolveHost } from './core/callback-url.ts';
import { openStore, ping } from './store/store.ts';
import { loadTokenSealer } from './core/token-sealer.ts';
import type { TokenSealer } from './core/token-sealer.ts';
import { HistoryPruner, defaultRetention } from './store/retention.ts';
import { Dispatcher } from './delivery/dispatcher.ts';
import { ThreadedHttpSender } from './delivery/threaded-sender.ts';
import { createHttpSender } from './delivery/http-sender.ts';
import type { Dialect, Dialects } from './domain/dialect.ts';
import type { DeliveryDialects } from './delivery/notification-request.ts';
import { cronofyDialect } from './faces/cronofy/dialect.ts';
import { googleDialect } from './faces/google/dialect.ts';
import { graphDialect } from './faces/graph/dialect.ts';
import { createCronofyFace } from './faces/cronofy/app.ts';
import { createCronofyOAuth, oauthErrorBody } from './faces/cronofy/oauth-app.ts';
import { createGoogleFace } from './faces/google/app.ts';
import { createRootApp, errorBodyOf } from './http/app.ts';
import type { RoutedFace } from './http/app.ts';
import type { SourceProvider, SourceProviders } from './domain/source.ts';
import type { OutboundHttp } from './net/outbound-http.ts';
import { createOutboundHttp } from './net/outbound-http.ts';
import { createSecretBox } from './core/secret-box.ts';
import { loadSecretKeys } from './core/secret-keys.ts';
import { DeliverySecrets } from './delivery/delivery-secrets.ts';
import { NO_EXCEPTIONS, addressGuard } from './net/safe-lookup.ts';
import { createGraphFace } from './faces/graph/app.ts';
import { createAdminApi } from './faces/admin/app.ts';
import { adminErrorBody } from './faces/admin/errors.ts';
import { createDashboard } from './faces/admin/dashboard.ts';
import { DashboardSessions } from './faces/admin/sessions.ts';
import { isOperatorTokenHash } from './core/admin-tokens.ts';
import { HANDSHAKE_TIMEOUT_MS } from './faces/graph/handshake.ts';
import { isPublicAddress } from './domain/address-policy.ts';
import { isIP } from 'node:net';
import { SourceScheduler } from './sources/scheduler.ts';
import { createIcsProvider } from './sources/ics/ics-provider.ts';
import { createCaldavProvider } from './sources/caldav/caldav-provider.ts';
import { parseItem } from './sources/ical/parse-calendar.ts';
import type { Metrics } from './metrics/metrics.ts';
import { createMetrics } from './metrics/metrics.ts';
import { createGoogleProvider } from './sources/google/google-provider.ts';
import type { PushSetup } from './sources/google/watches.ts';

/** Delivery history is kept for a week (see store/retention.ts); a pass is cheap, so often. */
const PRUNE_EVERY_MS = 60 * 1000;

export interface ServiceDeps {
  readonly clock?: Clock;
  /** How callback host names are resolved when a channel is made (tests send no DNS query). */
  readonly resolveHost?: ResolveHost;
  readonly logger?: Logger;
  readonly random?: () => number;
}

export interface Service {
  readonly app: ReturnType<typeof createRootApp>;
  /** The error body of the face a path falls under, for errors answered outside the app. */
  readonly errorBody: (path: string, status: number, message: string) => unknown;
  readonly core: CoreResources;
  readonly store: Store;
  readonly dispatcher: Dispatcher;
  /** Polls the sources; tests that drive polls by hand call its runUntilIdle(). */
  readonly sources: SourceScheduler;
  readonly logger: Logger;
  /** Prometheus metrics: served at /metrics with a token, or on their own port by `serve`. */
  readonly metrics: Metrics;
  /** Starts background delivery. Tests that drive delivery by hand do not call it. */
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** Every wire dialect calpush speaks: each face's own module, registered here alone. */
export const registeredDialects: readonly Dialect[] = [cronofyDialect, googleDialect, graphDialect];

/** The dialects by name, as the core looks them up. */
export function dialectsByName(): Dialects {
  return new Map(registeredDialects.map((d) => [d.name, d]));
}

/** The dialects by name, as the delivery engine looks them up. */
export function deliveryDialects(): DeliveryDialects {
  return Object.fromEntries(registeredDialects.map((d) => [d.name, d]));
}

/** Every kind of source calpush can mirror, each reading through the one outbound client. */
export function sourceProvidersOver(
  http: OutboundHttp,
  clock: Clock,
  google: Config['google'],
  push?: PushSetup,
): SourceProviders {
  const providers: SourceProvider[] = [
    // CalDAV servers answer "anything changed?" in one small request: polled every minute.
    createCaldavProvider({
      http,
      clock,
      parseItem: (ics, key, version) => parseItem(ics, key, version),
      defaultIntervalMs: 60_000,
      minIntervalMs: 30_000,
    }),
    createIcsProvider({ http, clock }),
    createGoogleProvider({
      http,
      clock,
      apiUrl: google.apiUrl,
      oauth: {
        oauthUrl: google.oauthUrl,
        clientId: google.clientId,
        clientSecret: google.clientSecret,
      },
      authUrl: google.authUrl,
      push,
    }),
  ];
  return new Map(providers.map((p) => [p.name, p]));
}

/**
 * Where a source's password may travel over plain http: anywhere in dev mode, otherwise only
 * to the hosts (and literal addresses in the ranges) the operator allowed for sources.
 */
function plainHttpFor(config: Config): (url: URL) => boolean {
  const guard = addressGuard({
    hosts: config.sources.allowHosts,
    ranges: config.sources.allowRanges,
  });
  return (url) => {
    if (config.dev) return true;
    const host = url.hostname.replace(/^\[|\]$/g, '');
    return (
      guard.hostExempt(host) ||
      (isIP(host) !== 0 && !isPublicAddress(host) && guard.addressAllowed(host))
    );
  };
}

/**
 * Google pushes to calpush only at an address it was told is public: a guessed one (the
 * listening socket) is often unreachable from outside, and polling alone then works.
 */
function googlePush(config: Config, secrets: PushSetup['secrets']): PushSetup | undefined {
  if (!config.publicUrlGiven || !config.google.push) return undefined;
  return {
    address: (sourceId) =>
      `${config.publicUrl}/v1/sources/google/push/${encodeURIComponent(sourceId)}`,
    secrets,
  };
}

/** The composition root: builds every piece from one config and wires them together. */
export async function createService(config: Config, deps: ServiceDeps = {}): Promise<Service> {
  const clock = deps.clock ?? systemClock;
  const logger = deps.logger ?? createLogger(config.logLevel);
  const keys = loadSecretKeys(config.secretKey, config.dataDir);
  if (keys.rotationPending) {
    logger.warn('a secret key rotation was interrupted: run `calpush keys rotate` to finish it');
  }
  const secrets = createSecretBox(keys.keys);
  const store = await openStore({
    dataDir: config.dataDir,
    databaseUrl: config.databaseUrl,
    sessionLimits: config.postgres,
    onConnectionError: (err) =>
      logger.warn({ err: err.message }, 'database connection lost; work in flight is retried'),
    sealer: secrets,
  });
  let tokens: TokenSealer;
  try {
    tokens = await loadTokenSealer(store.db, secrets);
  } catch (err) {
    await store.close();
    throw err;
  }
  const senderOptions = {
    dev: config.dev,
    timeoutMs: config.delivery.timeoutMs,
    connectionsPerOrigin: config.delivery.maxInFlightPerOrigin,
  };
  const sender = config.delivery.senderThread
    ? new ThreadedHttpSender(senderOptions)
    : createHttpSender(senderOptions);
  const dispatcher = new Dispatcher({
    db: store.deliveryDb,
    clock,
    logger,
    sender,
    secrets: new DeliverySecrets(secrets),
    dialects: deliveryDialects(),
    policy: { ...defaultRetryPolicy, windowMs: config.delivery.retryWindowMs },
    limits: config.delivery,
    random: deps.random ?? Math.random,
    releaseLeasesOnStart: store.traits.singleNode,
    lockClaimedRows: store.traits.concurrentWriters,
  });
  const metrics = createMetrics({
    db: store.db,
    clock,
    processMetrics: config.metrics.token !== undefined || config.metrics.port !== undefined,
  });
  dispatcher.events.on('recorded', (batch) => metrics.deliveries.recorded(batch));
  const outbound = createOutboundHttp({
    dev: config.dev,
    exceptions: { hosts: config.sources.allowHosts, ranges: config.sources.allowRanges },
    timeoutMs: config.sources.timeoutMs,
    maxBodyBytes: config.sources.maxBodyBytes,
    connectionsPerOrigin: config.sources.perHost,
    headers: { 'user-agent': 'calpush' },
  });
  // Graph's validation handshake reaches receivers under the same address rules as delivery:
  // public addresses only outside dev mode, checked at connect time.
  const handshake = createOutboundHttp({
    dev: config.dev,
    exceptions: NO_EXCEPTIONS,
    timeoutMs: HANDSHAKE_TIMEOUT_MS,
    maxBodyBytes: 64 * 1024,
    connectionsPerOrigin: 4,
    headers: { 'user-agent': 'calpush' },
  });
  // The scheduler is built on the core it polls through; the core only signals it.
  const sourcesDue = new EventEmitter<{ due: [] }>();
  const core: CoreResources = {
    db: store.db,
    write: store.write,
    clock,
    dialects: dialectsByName(),
    dev: config.dev,
    publicUrl: config.publicUrl,
    tokens,
    secrets,
    notifyQueued: () => {
      dispatcher.wake();
      store.queueSignal?.signal();
    },
    notifyClosed: (ids) => dispatcher.abortChannels(ids),
    sources: {
      providers: sourceProvidersOver(outbound, clock, config.google, googlePush(config, secrets)),
      minIntervalMs: config.sources.minIntervalMs,
      plainHttpAllowed: plainHttpFor(config),
      wake: () => sourcesDue.emit('due'),
    },
    channelsPerAccount: config.channelsPerAccount,
    deliveryWindowMs: config.delivery.retryWindowMs,
    resolveHost: deps.resolveHost ?? systemResolveHost,
    principals:
      config.http.tokenCacheMs > 0
        ? new PrincipalCache({
            ttlMs: config.http.tokenCacheMs,
            maxEntries: MAX_CACHED_TOKENS,
            revocationCount: () => tokenRevocationCount(store.db),
          })
        : undefined,
  };
  const sources = new SourceScheduler({
    res: core,
    logger,
    random: deps.random ?? Math.random,
    observer: metrics.polls,
    limits: {
      ...config.sources,
      lockRows: store.traits.concurrentWriters,
      releaseLeasesOnStart: store.traits.singleNode,
    },
  });
  sourcesDue.on('due', () => sources.wake());
  const rateLimit =
    config.rateLimitPerSecond > 0
      ? new TokenBuckets({
          perSecond: config.rateLimitPerSecond,
          burst: config.rateLimitPerSecond * 2,
        })
      : undefined;
  const dashboardSessions = new DashboardSessions(
    () => clock.now(),
    (tokenHash) => isOperatorTokenHash(core, tokenHash, config.adminToken),
  );
  const faces: RoutedFace[] = [
    {
      prefix: '/v1',
      app: createCronofyFace(core, { rateLimit, logger }),
      errorBody: cronofyDialect.errorBody,
    },
    {
      // Cronofy's OAuth endpoints (token revocation) live beside its API, not under /v1.
      prefix: '/oauth',
      app: createCronofyOAuth(core, { logger }),
      errorBody: oauthErrorBody,
    },
    {
      prefix: '/calendar/v3',
      app: createGoogleFace(core, { rateLimit, logger }),
      errorBody: googleDialect.errorBody,
    },
    {
      prefix: '/v1.0',
      app: createGraphFace(core, { rateLimit, logger, handshake }),
      errorBody: graphDialect.errorBody,
    },
    {
      prefix: '/admin/v1',
      app: createAdminApi(core, {
        logger,
        adminToken: config.adminToken,
        session: dashboardSessions.check,
        attempts: (listener) => {
          dispatcher.events.on('recorded', listener);
          return () => dispatcher.events.off('recorded', listener);
        },
      }),
      errorBody: adminErrorBody,
    },
    {
      prefix: '/dashboard',
      app: createDashboard(core, {
        adminToken: config.adminToken,
        sessions: dashboardSessions,
        secureCookies: config.publicUrl.startsWith('https:'),
      }),
      errorBody: adminErrorBody,
    },
  ];
  const app = createRootApp({
    bodyLimitBytes: config.http.bodyLimitBytes,
    ready: () => ping(store),
    logger,
    faces,
    requests: metrics.requests,
    metrics: {
      token: config.metrics.token,
      contentType: metrics.contentType,
      render: () => metrics.render(),
    },
  });
  let started = false;
  let pruning: NodeJS.Timeout | undefined;
  const pruner = new HistoryPruner(store.db, {
    ...defaultRetention,
    attemptsKeepMs: config.deliveryLogDays * 24 * 60 * 60 * 1000,
  });
  return {
    app,
    errorBody: errorBodyOf(faces),
    core,
    store,
    dispatcher,
    sources,
    logger,
    metrics,
    async start() {
      started = true;
      await dispatcher.start();
      // Changes committed on other nodes wake this one at once, not at its next look.
      store.queueSignal?.listen(() => dispatcher.wake());
      await sources.start();
      pruning = setInterval(() => {
        pruner
          .prune(clock.now())
          .then((removed) => logger.debug(removed, 'pruned delivery history'))
          .catch((err: unknown) => logger.error({ err }, 'pruning delivery history failed'));
      }, PRUNE_EVERY_MS);
      pruning.unref();
    },
    async stop() {
      if (pruning) clearInterval(pruning);
      // A pass under way ends after its current window; the store must outlive that window.
      await pruner.stop();
      if (started) await sources.stop();
      if (started) await dispatcher.stop();
      await sender.close();
      await outbound.close();
      await handshake.close();
      await store.close();
    },
  };
}
