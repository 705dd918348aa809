import { tryParseIp, type AddressFamily } from '@balanced/net';
import { InvalidAddressError } from './errors.js';

export type { AddressFamily };

/**
 * An address as the kernel stores it in `union nf_inet_addr`: four 32-bit words, each the
 * big-endian (network order) reading of four address bytes. IPv4 uses word 0; the rest are 0.
 */
export interface ParsedAddress {
  readonly family: AddressFamily;
  readonly words: readonly [number, number, number, number];
}

/**
 * Parses an address as @balanced/net does (IPv4 dotted quad, any RFC 4291 IPv6 text; no zone
 * id, no brackets). Throws {@link InvalidAddressError}.
 */
export function parseAddress(text: string): ParsedAddress {
  const ip = tryParseIp(text);
  if (ip === undefined) throw new InvalidAddressError(String(text));
  const b = ip.bytes;
  const w = (i: number): number => (((b[4 * i] ?? 0) << 24) | ((b[4 * i + 1] ?? 0) << 16) | ((b[4 * i + 2] ?? 0) << 8) | (b[4 * i + 3] ?? 0)) >>> 0;
  return { family: ip.family, words: ip.family === 'inet' ? [w(0), 0, 0, 0] : [w(0), w(1), w(2), w(3)] };
}

/**
 * The 32-bit value the kernel's mh hash starts from: `ntohl(addr->ip)` for an AF_INET
 * service, `ntohl(ip6[0] ^ ip6[1] ^ ip6[2] ^ ip6[3])` for AF_INET6. The family is the
 * *service's*, also for destinations of the other family (mixed-family tunnel services).
 */
export function foldAddress(address: ParsedAddress, serviceFamily: AddressFamily): number {
  const [a, b, c, d] = address.words;
  return serviceFamily === 'inet6' ? (a ^ b ^ c ^ d) >>> 0 : a >>> 0;
}
