// Addresses as the resolver's model writes them (model.ts): IPv4 dotted quad, IPv6 RFC 5952.
import ipaddr from 'ipaddr.js';

/** The Kubernetes spelling of an address family (Service ipFamilies, EndpointSlice addressType). */
export type IpFamily = 'IPv4' | 'IPv6';

export const IP_FAMILIES: readonly IpFamily[] = ['IPv4', 'IPv6'];

export interface CanonicalIp {
  readonly text: string;
  readonly family: IpFamily;
}

/**
 * An address in its canonical text, or undefined when `value` is not one. Refused: IPv4 in
 * anything but four decimal parts without leading zeros, IPv6 zone ids, and IPv4-mapped IPv6
 * (the kernel side stores IPv4 that way, so `::ffff:a.b.c.d` would alias the IPv4 address).
 */
export function canonicalIp(value: unknown): CanonicalIp | undefined {
  if (typeof value !== 'string' || value.length === 0 || value.length > 64) return undefined;
  try {
    if (!value.includes(':')) {
      // Four decimal parts without leading zeros is the canonical text already: keep the very
      // string (100,000 endpoints would otherwise hold a second copy of every address).
      return isDottedQuad(value) ? { text: value, family: 'IPv4' } : undefined;
    }
    if (value.includes('%') || !ipaddr.IPv6.isValid(value)) return undefined;
    const address = ipaddr.IPv6.parse(value);
    if (address.isIPv4MappedAddress()) return undefined;
    const text = address.toRFC5952String();
    return { text: text === value ? value : text, family: 'IPv6' };
  } catch {
    return undefined;
  }
}

/**
 * Four decimal parts, each 0..255 without leading zeros: what ipaddr.js's
 * IPv4.isValidFourPartDecimal accepts, read without a regular expression (it allocates, and
 * a first pass reads 100,000 endpoint addresses).
 */
export function isDottedQuad(value: string): boolean {
  let parts = 0;
  let part = 0;
  let digits = 0;
  for (let i = 0; i <= value.length; i++) {
    const c = i < value.length ? value.charCodeAt(i) : 0x2e;
    if (c === 0x2e) {
      if (digits === 0 || ++parts > 4) return false;
      part = 0;
      digits = 0;
    } else if (c >= 0x30 && c <= 0x39) {
      if (digits > 0 && part === 0) return false; // a leading zero
      part = part * 10 + (c - 0x30);
      if (++digits > 3 || part > 255) return false;
    } else return false;
  }
  return parts === 4;
}

/** The loopback address of a family: a client on the node may reach a NodePort there. */
export function loopback(family: IpFamily): string {
  return family === 'IPv4' ? '127.0.0.1' : '::1';
}
