// Inclusive address ranges: what a VipPool's `spec.cidrs` entry holds, a CIDR
// (`10.96.100.0/25`, by parseCidr's rules) or `first-last` (`10.96.100.192-10.96.100.254`).

import { cidrOf, parseCidr, type Cidr } from './cidr.js';
import { InvalidCidrError, InvalidRangeError } from './errors.js';
import { compareIp, familyBits, ipFromBigInt, ipToBigInt, tryParseIp, type AddressFamily, type IpAddress } from './ip.js';

export interface IpRange {
  readonly family: AddressFamily;
  readonly first: IpAddress;
  readonly last: IpAddress;
  /** Canonical text: the CIDR's when the entry was one, else `first-last`. */
  readonly text: string;
}

/** The addresses of a CIDR, as a range. */
export function cidrRange(cidr: Cidr): IpRange {
  const hostBits = BigInt(familyBits(cidr.family) - cidr.prefixLength);
  const last = ipFromBigInt(cidr.family, ipToBigInt(cidr.network) | ((1n << hostBits) - 1n));
  return { family: cidr.family, first: cidr.network, last, text: cidr.text };
}

/**
 * A pool entry: a CIDR (host bits refused, see cidr.ts) or `first-last` (both ends included,
 * one family, first ≤ last). Surrounding spaces, and spaces around the dash, are allowed.
 */
export function parseIpRange(text: unknown): IpRange {
  if (typeof text !== 'string') throw new InvalidRangeError(text, 'not a string');
  const t = text.trim();
  const dash = t.indexOf('-');
  if (dash !== -1) {
    const first = tryParseIp(t.slice(0, dash).trim());
    const last = tryParseIp(t.slice(dash + 1).trim());
    if (first === undefined || last === undefined) throw new InvalidRangeError(text, 'expected two IP addresses, e.g. "10.0.0.10-10.0.0.20"');
    if (first.family !== last.family) throw new InvalidRangeError(text, 'mixes IPv4 and IPv6');
    if (compareIp(first, last) > 0) throw new InvalidRangeError(text, 'ends before it starts');
    return { family: first.family, first, last, text: `${first.text}-${last.text}` };
  }
  if (!t.includes('/')) throw new InvalidRangeError(text, 'expected a CIDR (e.g. "10.0.0.0/24") or a range (e.g. "10.0.0.10-10.0.0.20")');
  try {
    return cidrRange(parseCidr(t));
  } catch (e) {
    throw new InvalidRangeError(text, e instanceof InvalidCidrError ? e.why : String(e));
  }
}

/** The range, or undefined when the text is not one. */
export function tryParseIpRange(text: unknown): IpRange | undefined {
  try {
    return parseIpRange(text);
  } catch {
    return undefined;
  }
}

export function rangeContains(range: IpRange, ip: IpAddress): boolean {
  return ip.family === range.family && compareIp(range.first, ip) <= 0 && compareIp(ip, range.last) <= 0;
}

/** The fewest CIDRs that cover exactly the range (what iptables `-d` and BIRD prefix sets take). */
export function rangeCidrs(range: IpRange): Cidr[] {
  const bits = familyBits(range.family);
  const last = ipToBigInt(range.last);
  const out: Cidr[] = [];
  for (let at = ipToBigInt(range.first); at <= last; ) {
    let hostBits = 0;
    // Grow the block while it stays aligned at `at` and ends inside the range.
    while (hostBits < bits && (at & ((1n << BigInt(hostBits + 1)) - 1n)) === 0n && at + (1n << BigInt(hostBits + 1)) - 1n <= last) hostBits++;
    out.push(cidrOf(ipFromBigInt(range.family, at), bits - hostBits));
    at += 1n << BigInt(hostBits);
  }
  return out;
}
