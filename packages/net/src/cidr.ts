// CIDRs: a network address and a prefix length. One rule for host bits, everywhere (VIP
// ranges from flags and VipPools, loadBalancerSourceRanges, BalanceD pool references): a CIDR
// with host bits set is REFUSED, with the network it probably meant in the message. It is
// usually a typo ("10.96.100.1/24" for a /32, or for 10.96.100.0/24), and reading it either
// way silently would widen or narrow what a component owns or lets through; the VipPool CRD
// says the same ("no host bits set").

import { InvalidAddressError, InvalidCidrError } from './errors.js';
import { familyBits, ipFromBytes, parseIp, tryParseIp, type AddressFamily, type IpAddress } from './ip.js';

export interface Cidr {
  readonly family: AddressFamily;
  /** The network address (host bits are zero). */
  readonly network: IpAddress;
  readonly prefixLength: number;
  /** Canonical text, e.g. `10.96.100.0/24`, `fd96::/64`. */
  readonly text: string;
}

/** A prefix length in canonical decimal (no sign, no leading zeros). */
const LENGTH = /^(0|[1-9]\d{0,2})$/;

/** `length` parsed, or an error message. */
export function parsePrefixLength(text: string, family: AddressFamily): number | string {
  const max = familyBits(family);
  const n = LENGTH.test(text) ? Number(text) : NaN;
  return n >= 0 && n <= max ? n : `prefix length must be 0..${max}`;
}

/** The bytes with every bit past `prefixLength` cleared. */
export function maskBytes(bytes: Uint8Array, prefixLength: number): Uint8Array {
  const out = Uint8Array.from(bytes);
  for (let i = 0; i < out.length; i++) {
    const keep = Math.max(0, Math.min(8, prefixLength - i * 8));
    out[i] = (out[i] ?? 0) & (0xff << (8 - keep)) & 0xff;
  }
  return out;
}

/** The CIDR of `prefixLength` bits that holds `ip` (host bits cleared). */
export function cidrOf(ip: IpAddress, prefixLength: number = familyBits(ip.family)): Cidr {
  const network = ipFromBytes(maskBytes(ip.bytes, prefixLength), ip.family);
  return { family: ip.family, network, prefixLength, text: `${network.text}/${prefixLength}` };
}

/**
 * Parses `address/length` (`10.96.0.0/24`, `fd96::/64`). Refused: a bare address, a length
 * out of range or not in plain decimal, and host bits set (see the file comment).
 */
export function parseCidr(text: unknown): Cidr {
  if (typeof text !== 'string') throw new InvalidCidrError(text, 'not a string');
  const slash = text.indexOf('/');
  if (slash === -1) throw new InvalidCidrError(text, 'expected an address and a prefix length, e.g. 10.96.0.0/24 or fd96::/64');
  let address: IpAddress;
  try {
    address = parseIp(text.slice(0, slash));
  } catch (e) {
    throw new InvalidCidrError(text, `address "${text.slice(0, slash)}": ${e instanceof InvalidAddressError ? e.why : 'not an IP address'}`);
  }
  const length = parsePrefixLength(text.slice(slash + 1), address.family);
  if (typeof length === 'string') throw new InvalidCidrError(text, length);
  const cidr = cidrOf(address, length);
  if (cidr.network.text !== address.text) throw new InvalidCidrError(text, `host bits are set; did you mean "${cidr.text}"?`);
  return cidr;
}

/** The CIDR, or undefined when the text is not one. */
export function tryParseCidr(text: unknown): Cidr | undefined {
  try {
    return parseCidr(text);
  } catch {
    return undefined;
  }
}

/** The address lies inside the CIDR (same family, same leading bits). */
export function cidrContains(cidr: Cidr, ip: IpAddress): boolean {
  if (ip.family !== cidr.family) return false;
  const full = Math.floor(cidr.prefixLength / 8);
  for (let i = 0; i < full; i++) if (ip.bytes[i] !== cidr.network.bytes[i]) return false;
  const rest = cidr.prefixLength % 8;
  if (rest === 0) return true;
  const mask = (0xff << (8 - rest)) & 0xff;
  return ((ip.bytes[full] ?? 0) & mask) === cidr.network.bytes[full];
}

/**
 * "This address lies inside one of the CIDRs": the ownership rule of every component (a
 * director programs, an announcer announces and a node's pods hold only VIPs inside the VIP
 * ranges). Texts are parsed with parseCidr (throws InvalidCidrError). No CIDRs: nothing.
 */
export function cidrOwnership(cidrs: readonly (Cidr | string)[]): (ip: unknown) => boolean {
  const parsed = cidrs.map((c) => (typeof c === 'string' ? parseCidr(c) : c));
  return (text) => {
    const ip = tryParseIp(text);
    return ip !== undefined && parsed.some((c) => cidrContains(c, ip));
  };
}

/** By family (IPv4 first), network address, then prefix length: a stable order for rendering. */
export function compareCidr(a: Cidr, b: Cidr): number {
  if (a.family !== b.family) return a.family === 'inet' ? -1 : 1;
  for (let i = 0; i < a.network.bytes.length; i++) {
    const d = (a.network.bytes[i] ?? 0) - (b.network.bytes[i] ?? 0);
    if (d !== 0) return d;
  }
  return a.prefixLength - b.prefixLength;
}
