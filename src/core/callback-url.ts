import { isIP } from 'node:net';
import { isPublicAddress } from '../domain/address-policy.ts';
import { CoreError } from './errors.ts';

export interface CallbackRules {
  readonly dev: boolean;
  /** Some dialects insist on HTTPS outside dev mode. */
  readonly requireHttps: boolean;
  readonly field: string;
}

/**
 * Checks what can be checked when a channel is made. Host names are resolved and checked
 * again at every connection (see net/safe-lookup.ts), so DNS rebinding cannot slip a
 * private address past this.
 */
export function checkCallbackUrl(raw: string, rules: CallbackRules): URL {
  const fail = (why: string): never => {
    throw new CoreError('invalid', why, { field: rules.field, detail: 'callback_refused' });
  };
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return fail('must be an absolute http or https URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    return fail('must be an absolute http or https URL');
  }
  if (url.username || url.password) fail('must not carry credentials');
  if (rules.dev) return url;
  if (rules.requireHttps && url.protocol !== 'https:') fail('must use https');
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (isIP(host) !== 0 && !isPublicAddress(host)) fail('must point at a public address');
  if (host === 'localhost' || host.endsWith('.localhost')) {
    fail('must point at a public address');
  }
  return url;
}

/** scheme://host:port, the unit delivery concurrency is bounded by. */
export function originOf(url: URL): string {
  const port = url.port || (url.protocol === 'https:' ? '443' : '80');
  return `${url.protocol}//${url.hostname}:${port}`;
}
