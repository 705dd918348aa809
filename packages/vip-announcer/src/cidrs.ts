// VIP ranges: the CIDRs this announcer may announce from. A VIP outside them never reaches
// BIRD, and the export filter rendered from them drops anything else a bug might add.
import { parseIp, parsePrefix, type AddressFamily, type IpAddress } from '@balanced/netlink';

export interface VipCidr {
  readonly family: AddressFamily;
  /** The network address (host bits cleared). */
  readonly network: IpAddress;
  readonly prefixLength: number;
  /** Canonical text, e.g. `10.96.100.0/24`. */
  readonly text: string;
}

export class InvalidCidrError extends Error {
  override readonly name = 'InvalidCidrError';
  constructor(
    readonly input: unknown,
    why = 'expected e.g. 10.96.100.0/24 or fd96::/64',
  ) {
    super(`invalid VIP CIDR ${JSON.stringify(input)}: ${why}`);
  }
}

function masked(bytes: Uint8Array, prefixLength: number): Uint8Array {
  const out = Uint8Array.from(bytes);
  for (let i = 0; i < out.length; i++) {
    const keep = Math.max(0, Math.min(8, prefixLength - i * 8));
    out[i] = (out[i] ?? 0) & (0xff << (8 - keep)) & 0xff;
  }
  return out;
}

/** Parses `a.b.c.d/n` or `x::/n` (a bare address is a host route); host bits are cleared. */
export function parseVipCidr(text: unknown): VipCidr {
  if (typeof text !== 'string' || !text.includes('/')) throw new InvalidCidrError(text);
  let prefix;
  try {
    prefix = parsePrefix(text.trim());
  } catch (e) {
    throw new InvalidCidrError(text, e instanceof Error ? e.message : String(e));
  }
  const bytes = masked(prefix.address.bytes, prefix.prefixLength);
  const network = parseIp(formatBytes(bytes));
  return { family: network.family, network, prefixLength: prefix.prefixLength, text: `${network.text}/${prefix.prefixLength}` };
}

function formatBytes(bytes: Uint8Array): string {
  if (bytes.length === 4) return [...bytes].join('.');
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push((((bytes[i] ?? 0) << 8) | (bytes[i + 1] ?? 0)).toString(16));
  return groups.join(':');
}

export function cidrContains(cidr: VipCidr, ip: IpAddress): boolean {
  if (ip.family !== cidr.family) return false;
  const m = masked(ip.bytes, cidr.prefixLength);
  return m.every((b, i) => b === cidr.network.bytes[i]);
}

/** The address, or undefined when the text is not one. */
export function tryParseIp(text: unknown): IpAddress | undefined {
  if (typeof text !== 'string') return undefined;
  try {
    return parseIp(text);
  } catch {
    return undefined;
  }
}

/** "This IP lies inside one of the CIDRs" (no CIDRs: nothing does). */
export function vipOwnership(cidrs: readonly VipCidr[]): (ip: string) => boolean {
  return (text) => {
    const ip = tryParseIp(text);
    return ip !== undefined && cidrs.some((c) => cidrContains(c, ip));
  };
}

/** Byte order, IPv4 before IPv6: the order VIPs are rendered in. */
export function compareIp(a: IpAddress, b: IpAddress): number {
  if (a.bytes.length !== b.bytes.length) return a.bytes.length - b.bytes.length;
  for (let i = 0; i < a.bytes.length; i++) {
    const d = (a.bytes[i] ?? 0) - (b.bytes[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}
