import ipaddr from 'ipaddr.js';

/**
 * Whether a resolved address may receive callbacks outside dev mode. Only globally routable
 * unicast passes: loopback, private, link-local (cloud metadata lives there), CGNAT,
 * multicast and reserved ranges do not, nor IPv4 smuggled inside IPv6.
 */
export function isPublicAddress(address: string): boolean {
  if (!ipaddr.isValid(address)) return false;
  let parsed = ipaddr.parse(address);
  if (parsed.kind() === 'ipv6') {
    const v6 = parsed as ipaddr.IPv6;
    if (v6.isIPv4MappedAddress()) parsed = v6.toIPv4Address();
    // The deprecated IPv4-compatible form (::a.b.c.d) smuggles an IPv4 address too; the
    // whole ::/96 block is refused rather than judged by the address inside.
    else if (v6.parts.slice(0, 6).every((part) => part === 0)) return false;
  }
  return parsed.range() === 'unicast';
}
