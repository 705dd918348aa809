// IP addresses in policies: one address, no prefix, no zone, IPv4 as four decimal parts;
// kept in canonical text (RFC 5952 for IPv6) so one address is one key everywhere.

import { canonicalIp } from '@balanced/vip-allocator';

/** Canonical text of one address, or undefined; IPv4-mapped IPv6 (::ffff:a.b.c.d) is refused, as the CRD's isIP() refuses it. */
export function policyIp(text: unknown): string | undefined {
  if (typeof text !== 'string' || text.includes('%') || text.includes('/')) return undefined;
  const ip = canonicalIp(text);
  return ip === undefined || /^::ffff:[0-9a-f]{1,4}:[0-9a-f]{1,4}$/.test(ip) ? undefined : ip;
}

export const IP_HINT = 'write one IPv4 or IPv6 address such as 10.96.0.10 or fd00::a (no prefix length, no zone, not IPv4-mapped)';
