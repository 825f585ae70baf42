import { AsyncLocalStorage } from 'node:async_hooks';
import { pino } from 'pino';
import type { DestinationStream, Logger } from 'pino';

export type { Logger };

/** Secrets and tokens never reach the log, whatever a caller passes in. */
const redact = [
  'authorization',
  'headers.authorization',
  'req.headers.authorization',
  '*.client_secret',
  '*.clientSecret',
  '*.access_token',
  '*.accessToken',
  '*.secret',
  '*.secrets',
  '*.token',
  'client_secret',
  'access_token',
  'secret',
  'token',
];

/** What every log line written while serving one API request carries: its request id. */
export interface LogContext {
  readonly requestId: string;
}

/**
 * The request being served, if any. Set once per API call at the root app; every line
 * logged under it (a face's error, the core's, the store's) carries its id, with no logger
 * handed down for it.
 */
export const logContext = new AsyncLocalStorage<LogContext>();

function requestFields(): Partial<LogContext> {
  return logContext.getStore() ?? {};
}

export function createLogger(level: string, destination?: DestinationStream): Logger {
  const options = {
    level,
    redact: { paths: redact, censor: '[redacted]' },
    mixin: requestFields,
  };
  return destination ? pino(options, destination) : pino(options);
}
