// IP addresses in policies: one address, no prefix, no zone, IPv4 as four decimal parts;
// kept in canonical text (RFC 5952 for IPv6) so one address is one key everywhere
// (@balanced/net, the one parser balanced has).

import { isIpv4Mapped, tryParseIp } from '@balanced/net';

/** Canonical text of one address, or undefined; IPv4-mapped IPv6 (::ffff:a.b.c.d) is refused, as the CRD's isIP() refuses it. */
export function policyIp(text: unknown): string | undefined {
  const ip = tryParseIp(text);
  return ip === undefined || isIpv4Mapped(ip) ? undefined : ip.text;
}

export const IP_HINT = 'write one IPv4 or IPv6 address such as 10.96.0.10 or fd00::a (no prefix length, no zone, not IPv4-mapped)';
