// IP addresses as numbers (bigint), so pools can be walked and sized without strings. Parsing,
// canonical text and pool entries (CIDR or first-last) are @balanced/net's, so an IP is the
// same key, and a pool entry the same range, wherever it was read.

import { InvalidRangeError, ipFromBigInt, ipToBigInt, parseIpRange, tryParseIp } from '@balanced/net';

export type Family = 4 | 6;

export interface Address {
  readonly family: Family;
  readonly value: bigint;
}

/** An inclusive range of addresses of one family. */
export interface AddressRange {
  readonly family: Family;
  readonly first: bigint;
  readonly last: bigint;
}

/** A strictly written address (@balanced/net parseIp), or undefined. */
export function parseAddress(text: string): Address | undefined {
  const ip = tryParseIp(text);
  return ip === undefined ? undefined : { family: ip.family === 'inet' ? 4 : 6, value: ipToBigInt(ip) };
}

/** Canonical text (@balanced/net). */
export function formatAddress(address: Address): string {
  return ipFromBigInt(address.family === 4 ? 'inet' : 'inet6', address.value).text;
}

/**
 * A pool entry: `10.0.0.0/24`, `fd00::/120`, or an explicit range `10.0.0.10-10.0.0.20` (both
 * ends included, same family), by @balanced/net parseIpRange: a CIDR with host bits set is
 * refused (usually a typo), with the network it probably meant.
 */
export function parseRange(text: string): { ok: true; range: AddressRange } | { ok: false; message: string } {
  try {
    const r = parseIpRange(text);
    const family: Family = r.family === 'inet' ? 4 : 6;
    return { ok: true, range: { family, first: ipToBigInt(r.first), last: ipToBigInt(r.last) } };
  } catch (e) {
    return { ok: false, message: e instanceof InvalidRangeError ? `${JSON.stringify(typeof text === 'string' ? text.trim() : text)}: ${e.why}` : String(e) };
  }
}

/** Sorted (IPv4 first, then by address), overlapping and adjacent ranges merged. */
export function mergeRanges(ranges: readonly AddressRange[]): AddressRange[] {
  const sorted = [...ranges].sort((a, b) => a.family - b.family || (a.first < b.first ? -1 : a.first > b.first ? 1 : 0));
  const out: AddressRange[] = [];
  for (const r of sorted) {
    const prev = out[out.length - 1];
    if (prev !== undefined && prev.family === r.family && r.first <= prev.last + 1n) {
      if (r.last > prev.last) out[out.length - 1] = { ...prev, last: r.last };
    } else {
      out.push(r);
    }
  }
  return out;
}

export function inRange(range: AddressRange, address: Address): boolean {
  return range.family === address.family && address.value >= range.first && address.value <= range.last;
}

/**
 * An IPv4 address ending in .0 or .255. Some clients and middleboxes still treat them as
 * network/broadcast addresses of a classful /24 and drop traffic to them (MetalLB's
 * avoidBuggyIPs); pools with avoidBuggyIPs never hand them out.
 */
export function isBuggyIp(address: Address): boolean {
  if (address.family !== 4) return false;
  const last = address.value & 255n;
  return last === 0n || last === 255n;
}

/** How many addresses of the range can be handed out. */
export function rangeCapacity(range: AddressRange, avoidBuggyIPs: boolean): bigint {
  const size = range.last - range.first + 1n;
  if (!avoidBuggyIPs || range.family !== 4) return size;
  return size - countEndingIn(range, 0n) - countEndingIn(range, 255n);
}

/** Addresses x in the range with x mod 256 = octet. */
function countEndingIn(range: AddressRange, octet: bigint): bigint {
  const upTo = (n: bigint): bigint => (n < octet ? 0n : (n - octet) / 256n + 1n); // in [0, n]
  return upTo(range.last) - (range.first === 0n ? 0n : upTo(range.first - 1n));
}
