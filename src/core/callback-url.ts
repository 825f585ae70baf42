import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { isPublicAddress } from '../domain/address-policy.ts';
import { CoreError } from './errors.ts';

export interface CallbackRules {
  readonly dev: boolean;
  /** Some dialects insist on HTTPS outside dev mode. */
  readonly requireHttps: boolean;
  readonly field: string;
}

/** A host name's addresses, as a connection to it would find them. */
export type ResolveHost = (hostname: string) => Promise<readonly string[]>;

export const systemResolveHost: ResolveHost = async (hostname) =>
  (await lookup(hostname, { all: true, verbatim: true })).map((a) => a.address);

/** Names that mean this machine whatever a resolver says. */
function isLocalName(host: string): boolean {
  return (
    host === 'localhost' ||
    host.endsWith('.localhost') ||
    host === 'localhost.localdomain' ||
    host.endsWith('.localdomain')
  );
}

function refusal(rules: CallbackRules) {
  return (why: string): never => {
    throw new CoreError('invalid', why, { field: rules.field, detail: 'callback_refused' });
  };
}

/**
 * Checks a callback URL's form when a channel is made. Its host name is resolved next
 * (`checkCallbackHost`), and again at every connection (see net/safe-lookup.ts), so DNS
 * rebinding cannot slip a private address past these checks.
 */
export function checkCallbackUrl(raw: string, rules: CallbackRules): URL {
  const fail = refusal(rules);
  // Stored and echoed as given: a URL with spaces, control characters or CRLF in it could
  // split headers or logs wherever it is shown, so it is refused rather than normalised.
  if (/[\s\x00-\x1f\x7f]/.test(raw)) fail('must not contain spaces or control characters');
  // URL parsing would read `http:///x` as host `x`: the authority must be written out.
  if (!/^https?:\/\/[^/?#\\]/i.test(raw)) fail('must be an absolute http or https URL');
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
  const host = hostOf(url);
  if (isIP(host) !== 0 && !isPublicAddress(host)) fail('must point at a public address');
  if (isLocalName(host)) fail('must point at a public address');
  return url;
}

/** The URL's host as a resolver takes it: no brackets, no trailing dot, lower case. */
function hostOf(url: URL): string {
  return url.hostname
    .replace(/^\[|\]$/g, '')
    .replace(/\.$/, '')
    .toLowerCase();
}

/**
 * Outside dev mode, a callback's host name must resolve, and only to public addresses: a
 * name for this machine or a private network (an /etc/hosts entry, an internal zone) is
 * refused when the channel is made instead of failing silently for a day.
 */
export async function checkCallbackHost(
  url: URL,
  rules: CallbackRules,
  resolveHost: ResolveHost,
): Promise<void> {
  const host = hostOf(url);
  if (rules.dev || isIP(host) !== 0) return;
  const fail = refusal(rules);
  let addresses: readonly string[];
  try {
    addresses = await resolveHost(host);
  } catch {
    return fail(`host ${host} does not resolve`);
  }
  if (addresses.length === 0) fail(`host ${host} does not resolve`);
  if (addresses.some((a) => !isPublicAddress(a))) fail('must point at a public address');
}

/** scheme://host:port, the unit delivery concurrency is bounded by. */
export function originOf(url: URL): string {
  const port = url.port || (url.protocol === 'https:' ? '443' : '80');
  return `${url.protocol}//${url.hostname}:${port}`;
}
