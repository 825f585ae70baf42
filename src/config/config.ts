import { z } from 'zod';
import ipaddr from 'ipaddr.js';
import { DEFAULT_SESSION_LIMITS as PG } from '../store/postgres/session-limits.ts';

/** Settings that can come from flags; flags win over the environment. */
export interface ConfigOverrides {
  host?: string | undefined;
  port?: string | number | undefined;
  dataDir?: string | undefined;
  databaseUrl?: string | undefined;
  dev?: boolean | undefined;
  publicUrl?: string | undefined;
  logLevel?: string | undefined;
}

const schema = z.object({
  host: z.string().min(1),
  port: z.coerce.number().int().min(0).max(65535),
  dataDir: z.string().min(1),
  databaseUrl: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL')
    .optional(),
  dev: z.boolean(),
  publicUrl: z.url().optional(),
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']),
  delivery: z
    .object({
      timeoutMs: z.number().int().positive(),
      retryWindowMs: z.number().int().positive(),
      maxInFlight: z.number().int().positive(),
      maxInFlightPerOrigin: z.number().int().positive(),
      claimBatch: z.number().int().positive(),
      leaseMs: z.number().int().positive(),
      /** After a delivery, a channel's next notification waits this long (bursts coalesce). */
      minIntervalMs: z.number().int().min(0).max(60_000),
      /** Claims start at least this far apart, so a trickle of changes shares them. */
      claimSpacingMs: z.number().int().min(0).max(1000),
      /** HTTP client in a worker thread: more delivery headroom, about 25 MB more memory. */
      senderThread: z.boolean(),
    })
    // A claim may wait up to half its lease for a slot, then be on the wire for a timeout:
    // the lease must outlast both, or another claim could take the channel mid-send.
    .refine((d) => d.leaseMs >= 2 * d.timeoutMs + 1000, {
      path: ['leaseMs'],
      message: 'CALPUSH_DELIVERY_LEASE_MS must be at least twice the send timeout plus a second',
    }),
  /**
   * Bounds on every PostgreSQL session (see store/postgres/open-postgres.ts). A node stopped
   * inside a transaction holds its locks until the idle bound ends it; a statement waiting for
   * a lock gives up at the lock bound.
   */
  postgres: z.object({
    poolSize: z.number().int().min(1).max(1000),
    deliveryPoolSize: z.number().int().min(1).max(100),
    acquireTimeoutMs: z.number().int().positive(),
    statementTimeoutMs: z.number().int().positive(),
    lockTimeoutMs: z.number().int().positive(),
    idleInTransactionTimeoutMs: z.number().int().positive(),
  }),
  http: z.object({
    bodyLimitBytes: z.number().int().positive(),
    /** How long a checked bearer token is trusted before the store is asked again; 0: never. */
    tokenCacheMs: z.number().int().min(0).max(60_000),
    /** A request's headers and body must arrive within this, or it is answered 408 and closed. */
    requestTimeoutMs: z.number().int().min(100).max(3_600_000),
    /** Connections the server holds at once; more are refused as they arrive. */
    maxConnections: z.number().int().positive(),
  }),
  /**
   * Prometheus metrics. On the main port `/metrics` needs this bearer token (404 without
   * one); `port` serves them on a listener of their own, without a token, on `host`.
   */
  metrics: z.object({
    token: z.string().min(16, 'must be at least 16 characters').optional(),
    port: z.number().int().min(0).max(65535).optional(),
    host: z.string().min(1),
  }),
  /** Requests per second per account on the API faces; 0 turns the limit off. */
  rateLimitPerSecond: z.number().int().min(0),
  channelsPerAccount: z.number().int().min(1),
  /**
   * The operator's token for the admin API and the dashboard (more can be made with
   * `calpush admin-token create`); without one, only stored tokens open them.
   */
  adminToken: z.string().min(16, 'CALPUSH_ADMIN_TOKEN must be at least 16 characters').optional(),
  /** How long the delivery log (each attempt) is kept, in days. */
  deliveryLogDays: z.number().int().min(1).max(365),
  /** Base64 of 32 bytes sealing stored credentials; without it, a key file in dataDir. */
  secretKey: z.string().min(1).optional(),
  sources: z.object({
    /** No source is polled more often than this, whatever its provider allows. */
    minIntervalMs: z.number().int().min(1000),
    concurrency: z.number().int().positive(),
    perHost: z.number().int().positive(),
    leaseMs: z.number().int().positive(),
    timeoutMs: z.number().int().positive(),
    maxBodyBytes: z.number().int().positive(),
    /** Hosts and CIDR ranges sources may reach besides public addresses. */
    allowHosts: z.array(z.string().min(1)),
    allowRanges: z.array(z.string().refine((r) => ipaddr.isValidCIDR(r), 'must be a CIDR range')),
  }),
  /** Google Calendar accounts as sources: where the API and OAuth live, and calpush's app. */
  google: z.object({
    apiUrl: z.url(),
    /** The token endpoint's base: `{oauthUrl}/token`. */
    oauthUrl: z.url(),
    /** The consent page's base: `{authUrl}/o/oauth2/v2/auth`. */
    authUrl: z.url(),
    clientId: z.string().min(1).optional(),
    clientSecret: z.string().min(1).optional(),
    /** Watch upstream calendars when the public URL was given (off: poll only). */
    push: z.boolean(),
  }),
});

export type Config = Readonly<z.infer<typeof schema>> & {
  readonly publicUrl: string;
  /** Whether the public URL was given (flag or environment) rather than guessed from the socket. */
  readonly publicUrlGiven: boolean;
};

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** A whole number from the environment; unset or empty takes the default, anything else fails. */
function whole(value: string | undefined, fallback: number): number {
  if (value === undefined || value.trim() === '') return fallback;
  return /^\s*\d+\s*$/.test(value) ? Number(value) : Number.NaN;
}

/** `CALPUSH_SOURCES_ALLOW`: host names and CIDR ranges, comma-separated. */
function allowList(value: string | undefined): { allowHosts: string[]; allowRanges: string[] } {
  const entries = (value ?? '')
    .split(',')
    .map((e) => e.trim())
    .filter((e) => e !== '');
  return {
    allowHosts: entries.filter((e) => !e.includes('/')),
    allowRanges: entries.filter((e) => e.includes('/')),
  };
}

function flag(value: string | undefined): boolean | undefined {
  if (value === undefined || value === '') return undefined;
  return ['1', 'true', 'yes', 'on'].includes(value.toLowerCase());
}

/** The only reader of process.env: resolves flags, environment and defaults once. */
export function loadConfig(
  overrides: ConfigOverrides = {},
  env: NodeJS.ProcessEnv = process.env,
): Config {
  const raw = {
    host: overrides.host ?? env.CALPUSH_HOST ?? '127.0.0.1',
    port: overrides.port ?? env.CALPUSH_PORT ?? 8080,
    dataDir: overrides.dataDir ?? env.CALPUSH_DATA ?? './data',
    databaseUrl: overrides.databaseUrl ?? (env.CALPUSH_DATABASE_URL || undefined),
    dev: overrides.dev ?? flag(env.CALPUSH_DEV) ?? false,
    publicUrl: overrides.publicUrl ?? (env.CALPUSH_PUBLIC_URL || undefined),
    logLevel: overrides.logLevel ?? env.CALPUSH_LOG_LEVEL ?? 'info',
    delivery: {
      timeoutMs: 5_000,
      retryWindowMs: 24 * 60 * 60 * 1000,
      maxInFlight: whole(env.CALPUSH_MAX_IN_FLIGHT, 512),
      maxInFlightPerOrigin: whole(env.CALPUSH_MAX_IN_FLIGHT_PER_ORIGIN, 128),
      claimBatch: 256,
      leaseMs: whole(env.CALPUSH_DELIVERY_LEASE_MS, 60_000),
      minIntervalMs: whole(env.CALPUSH_MIN_INTERVAL_MS, 250),
      claimSpacingMs: 4,
      senderThread: env.CALPUSH_SENDER_THREAD === '1',
    },
    postgres: {
      poolSize: whole(env.CALPUSH_PG_POOL_SIZE, PG.poolSize),
      deliveryPoolSize: whole(env.CALPUSH_PG_DELIVERY_POOL_SIZE, PG.deliveryPoolSize),
      acquireTimeoutMs: whole(env.CALPUSH_PG_ACQUIRE_TIMEOUT_MS, PG.acquireTimeoutMs),
      statementTimeoutMs: whole(env.CALPUSH_PG_STATEMENT_TIMEOUT_MS, PG.statementTimeoutMs),
      lockTimeoutMs: whole(env.CALPUSH_PG_LOCK_TIMEOUT_MS, PG.lockTimeoutMs),
      idleInTransactionTimeoutMs: whole(
        env.CALPUSH_PG_IDLE_TX_TIMEOUT_MS,
        PG.idleInTransactionTimeoutMs,
      ),
    },
    http: {
      bodyLimitBytes: 256 * 1024,
      tokenCacheMs: whole(env.CALPUSH_TOKEN_CACHE_MS, 1000),
      requestTimeoutMs: whole(env.CALPUSH_REQUEST_TIMEOUT_MS, 30_000),
      maxConnections: whole(env.CALPUSH_MAX_CONNECTIONS, 1024),
    },
    metrics: {
      // The operator token opens /metrics too, unless metrics have a token of their own.
      token: env.CALPUSH_METRICS_TOKEN || env.CALPUSH_ADMIN_TOKEN || undefined,
      port: env.CALPUSH_METRICS_PORT ? whole(env.CALPUSH_METRICS_PORT, 0) : undefined,
      host: env.CALPUSH_METRICS_HOST || '127.0.0.1',
    },
    rateLimitPerSecond: whole(env.CALPUSH_RATE_LIMIT, 1000),
    channelsPerAccount: whole(env.CALPUSH_MAX_CHANNELS_PER_ACCOUNT, 128),
    secretKey: env.CALPUSH_SECRET_KEY || undefined,
    adminToken: env.CALPUSH_ADMIN_TOKEN || undefined,
    deliveryLogDays: whole(env.CALPUSH_DELIVERY_LOG_DAYS, 7),
    sources: {
      minIntervalMs: whole(env.CALPUSH_SOURCES_MIN_INTERVAL_SECONDS, 30) * 1000,
      concurrency: 32,
      perHost: whole(env.CALPUSH_SOURCES_PER_HOST, 4),
      leaseMs: 5 * 60 * 1000,
      timeoutMs: 30_000,
      maxBodyBytes: whole(env.CALPUSH_SOURCES_MAX_BYTES, 20 * 1024 * 1024),
      ...allowList(env.CALPUSH_SOURCES_ALLOW),
    },
    google: {
      apiUrl: trimmed(env.CALPUSH_GOOGLE_API_URL) ?? 'https://www.googleapis.com/calendar/v3',
      oauthUrl: trimmed(env.CALPUSH_GOOGLE_OAUTH_URL) ?? 'https://oauth2.googleapis.com',
      authUrl: trimmed(env.CALPUSH_GOOGLE_AUTH_URL) ?? 'https://accounts.google.com',
      clientId: env.CALPUSH_GOOGLE_CLIENT_ID || undefined,
      clientSecret: env.CALPUSH_GOOGLE_CLIENT_SECRET || undefined,
      push: flag(env.CALPUSH_GOOGLE_PUSH) ?? true,
    },
  };
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const detail = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new ConfigError(`invalid configuration: ${detail}`);
  }
  const config = parsed.data;
  const publicUrl = (config.publicUrl ?? `http://${config.host}:${config.port}`).replace(
    /\/+$/,
    '',
  );
  return Object.freeze({ ...config, publicUrl, publicUrlGiven: config.publicUrl !== undefined });
}

/** A base URL from the environment, without its trailing slashes; unset or empty: none. */
function trimmed(value: string | undefined): string | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  return value.trim().replace(/\/+$/, '');
}
