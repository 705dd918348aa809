import ipaddr from 'ipaddr.js';

export class InvalidCidrError extends Error {
  override readonly name = 'InvalidCidrError';
  constructor(readonly input: string) {
    super(`invalid VIP CIDR "${input}": expected e.g. 10.96.0.0/24 or fd96::/64`);
  }
}

/**
 * Pure: a predicate for "this IP lies inside one of our VIP CIDRs" — the ownership rule every
 * component shares (--vip-cidr): a director programs, and a node's pods hold, only VIPs inside
 * them. An empty list owns nothing.
 */
export function cidrOwnership(cidrs: readonly string[]): (ip: string) => boolean {
  const ranges = cidrs.map((c) => {
    try {
      return ipaddr.parseCIDR(c);
    } catch {
      throw new InvalidCidrError(c);
    }
  });
  return (ip: string) => {
    if (!ipaddr.isValid(ip)) return false;
    const a = ipaddr.parse(ip);
    return ranges.some(([net, bits]) => net.kind() === a.kind() && a.match(net, bits));
  };
}
