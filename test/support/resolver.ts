import { readFileSync } from 'node:fs';
import type { ResolveHost } from '../../src/core/callback-url.ts';

/** The address example.com had when these tests were written: public, and never contacted. */
const EXAMPLE_ADDRESS = '93.184.215.14';

function hostsFile(): Map<string, string[]> {
  const names = new Map<string, string[]>();
  for (const line of readFileSync('/etc/hosts', 'utf8').split('\n')) {
    const [address, ...aliases] = line.replace(/#.*/, '').trim().split(/\s+/);
    if (!address) continue;
    for (const name of aliases)
      names.set(name.toLowerCase(), [...(names.get(name) ?? []), address]);
  }
  return names;
}

/**
 * Resolves as the system would for names in /etc/hosts, and gives example names (RFC 2606)
 * a public address; anything else does not resolve. No DNS query ever leaves a test.
 */
export const testResolveHost: ResolveHost = (host) => {
  const known = hostsFile().get(host);
  if (known) return Promise.resolve(known);
  if (/(^|\.)example(\.(com|org|net))?$/.test(host)) return Promise.resolve([EXAMPLE_ADDRESS]);
  return Promise.reject(
    Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' }),
  );
};
