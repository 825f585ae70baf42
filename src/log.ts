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

export function createLogger(level: string, destination?: DestinationStream): Logger {
  const options = { level, redact: { paths: redact, censor: '[redacted]' } };
  return destination ? pino(options, destination) : pino(options);
}
