import { lookup as dnsLookup } from 'node:dns';
import type { LookupAddress, LookupOptions } from 'node:dns';
import { isPublicAddress } from '../domain/address-policy.ts';

type LookupCallback = (
  err: NodeJS.ErrnoException | null,
  address: string | LookupAddress[],
  family?: number,
) => void;

export class UnsafeAddressError extends Error {
  override name = 'UnsafeAddressError';
  code = 'ECALLBACKADDRESS';
}

/**
 * A net.connect lookup that refuses non-public addresses. It runs at every connection, so a
 * host name that resolved to a public address when the channel was made and to a private
 * one now (DNS rebinding) is still refused.
 */
export function safeLookup(hostname: string, options: LookupOptions, callback: LookupCallback) {
  dnsLookup(hostname, { ...options, all: true }, (err, addresses) => {
    if (err) return callback(err, []);
    const unsafe = addresses.find((a) => !isPublicAddress(a.address));
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
}
