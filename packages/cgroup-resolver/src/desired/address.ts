// Addresses as the resolver's model writes them (model.ts): IPv4 dotted quad, IPv6 RFC 5952.
import ipaddr from 'ipaddr.js';
import { dottedQuadValue } from '../dotted-quad.js';

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

/** Four decimal parts, each 0..255 without leading zeros (ipaddr.js's isValidFourPartDecimal). */
export function isDottedQuad(value: string): boolean {
  return dottedQuadValue(value) >= 0;
}

/** The loopback address of a family: a client on the node may reach a NodePort there. */
export function loopback(family: IpFamily): string {
  return family === 'IPv4' ? '127.0.0.1' : '::1';
}
