// IP addresses as numbers (bigint), so pools can be walked and sized without strings, and
// their canonical text (the form @balanced/k8s's annotation parser produces: ipaddr.js's
// toString, RFC 5952 for IPv6), so an IP is the same key wherever it was read.

import ipaddr from 'ipaddr.js';

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

const BITS: Record<Family, number> = { 4: 32, 6: 128 };

/** A strictly written address (IPv4: four decimal parts), or undefined. */
export function parseAddress(text: string): Address | undefined {
  if (typeof text !== 'string' || !ipaddr.isValid(text)) return undefined;
  const parsed = ipaddr.parse(text);
  if (parsed.kind() === 'ipv4' && !ipaddr.IPv4.isValidFourPartDecimal(text)) return undefined;
  let value = 0n;
  for (const byte of parsed.toByteArray()) value = (value << 8n) | BigInt(byte);
  return { family: parsed.kind() === 'ipv4' ? 4 : 6, value };
}

export function formatAddress(address: Address): string {
  if (address.family === 4) {
    const v = Number(address.value);
    return `${(v >>> 24) & 255}.${(v >>> 16) & 255}.${(v >>> 8) & 255}.${v & 255}`;
  }
  const bytes: number[] = [];
  for (let shift = 120n; shift >= 0n; shift -= 8n) bytes.push(Number((address.value >> shift) & 255n));
  return ipaddr.fromByteArray(bytes).toString();
}

/** Canonical text of an address, or undefined when the text is not one. */
export function canonicalIp(text: string): string | undefined {
  const a = parseAddress(text);
  return a === undefined ? undefined : formatAddress(a);
}

/**
 * `10.0.0.0/24`, `fd00::/120`, or an explicit range `10.0.0.10-10.0.0.20` (both ends
 * included, same family). A CIDR with host bits set is refused: it is usually a typo.
 */
export function parseRange(text: string): { ok: true; range: AddressRange } | { ok: false; message: string } {
  const t = typeof text === 'string' ? text.trim() : '';
  const dash = t.indexOf('-');
  if (dash !== -1) {
    const first = parseAddress(t.slice(0, dash).trim());
    const last = parseAddress(t.slice(dash + 1).trim());
    if (first === undefined || last === undefined) return { ok: false, message: `"${t}" is not a range of two IP addresses, e.g. "10.0.0.10-10.0.0.20"` };
    if (first.family !== last.family) return { ok: false, message: `"${t}" mixes IPv4 and IPv6` };
    if (first.value > last.value) return { ok: false, message: `"${t}" ends before it starts` };
    return { ok: true, range: { family: first.family, first: first.value, last: last.value } };
  }
  const slash = t.indexOf('/');
  if (slash === -1) return { ok: false, message: `"${t}" is not a CIDR (e.g. "10.0.0.0/24") or a range (e.g. "10.0.0.10-10.0.0.20")` };
  const base = parseAddress(t.slice(0, slash));
  const lengthText = t.slice(slash + 1);
  if (base === undefined) return { ok: false, message: `"${t}": "${t.slice(0, slash)}" is not an IP address` };
  const bits = BITS[base.family];
  const length = /^\d{1,3}$/.test(lengthText) ? Number(lengthText) : NaN;
  if (!(length >= 0 && length <= bits)) return { ok: false, message: `"${t}": prefix length must be 0..${bits}` };
  const hostBits = BigInt(bits - length);
  const mask = (1n << hostBits) - 1n;
  if ((base.value & mask) !== 0n) {
    const network = formatAddress({ family: base.family, value: base.value & ~mask });
    return { ok: false, message: `"${t}" has host bits set; did you mean "${network}/${length}"?` };
  }
  return { ok: true, range: { family: base.family, first: base.value, last: base.value | mask } };
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
