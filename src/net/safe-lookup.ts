import { lookup as dnsLookup } from 'node:dns';
import type { LookupAddress, LookupOptions } from 'node:dns';
import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';
import { isPublicAddress } from '../domain/address-policy.ts';

type LookupCallback = (
  err: NodeJS.ErrnoException | null,
  address: string | LookupAddress[],
  family?: number,
) => void;

export type Lookup = (hostname: string, options: LookupOptions, callback: LookupCallback) => void;

export class UnsafeAddressError extends Error {
  override name = 'UnsafeAddressError';
  code = 'ECALLBACKADDRESS';
}

/**
 * Which addresses outbound connections may reach besides public ones: named hosts, and
 * address ranges in CIDR notation (an operator's self-hosted servers on a private network).
 */
export interface AddressExceptions {
  readonly hosts: readonly string[];
  readonly ranges: readonly string[];
}

export const NO_EXCEPTIONS: AddressExceptions = { hosts: [], ranges: [] };

/** A check of one host name or address against the public-only rule and its exceptions. */
export interface AddressGuard {
  /** Whether a connection to `hostname` may skip the address check (a named exception). */
  hostExempt(hostname: string): boolean;
  /** Whether a resolved address may be reached. */
  addressAllowed(address: string): boolean;
}

export function addressGuard(exceptions: AddressExceptions): AddressGuard {
  const hosts = new Set(exceptions.hosts.map((h) => h.toLowerCase()));
  const ranges = exceptions.ranges.map((r) => ipaddr.parseCIDR(r));
  return {
    hostExempt: (hostname) => hosts.has(hostname.toLowerCase()),
    addressAllowed(address) {
      if (isPublicAddress(address)) return true;
      if (!ipaddr.isValid(address)) return false;
      const parsed = ipaddr.process(address);
      return ranges.some(
        ([base, bits]) => parsed.kind() === base.kind() && parsed.match(base, bits),
      );
    },
  };
}

/**
 * A net.connect lookup that refuses addresses the guard does not allow. It runs at every
 * connection, so a host name that resolved to a public address when it was checked and to a
 * private one now (DNS rebinding) is still refused.
 */
export function guardedLookup(guard: AddressGuard): Lookup {
  return (hostname, options, callback) => {
    dnsLookup(hostname, { ...options, all: true }, (err, addresses) => {
      if (err) return callback(err, []);
      const exempt = guard.hostExempt(hostname);
      const unsafe = exempt ? undefined : addresses.find((a) => !guard.addressAllowed(a.address));
      if (unsafe) {
        return callback(
          new UnsafeAddressError(`${hostname} resolves to non-public address ${unsafe.address}`),
          [],
        );
      }
      if (options.all) return callback(null, addresses);
      const first = addresses[0];
      if (!first) return callback(new UnsafeAddressError(`${hostname} has no address`), []);
      callback(null, first.address, first.family);
    });
  };
}

/**
 * Literal addresses never reach a lookup hook: the reason one in a URL's host is refused,
 * or undefined when it is allowed or the host is a name.
 */
export function refusedLiteral(hostname: string, guard: AddressGuard): string | undefined {
  const host = hostname.replace(/^\[|\]$/g, '');
  if (isIP(host) === 0 || guard.addressAllowed(host)) return undefined;
  return `refusing non-public address ${host}`;
}

/** Callbacks reach public addresses only. */
export const safeLookup: Lookup = guardedLookup(addressGuard(NO_EXCEPTIONS));
