// Where a host-network component's /healthz /readyz /metrics listen. A director (and every node
// the endpoint-controller runs on) holds VIPs as local addresses, so a wildcard listener
// (0.0.0.0, ::) answers on every VIP: anyone who reaches a VIP would reach /metrics (the whole
// table, and a kernel or BIRD read per scrape). Loopback by default; the node's own address
// (downward API status.hostIP) when told; never a wildcard, never an address inside the VIPs.
import { isIpv4Mapped, tryParseIp } from '@balanced/net';

export const DEFAULT_METRICS_HOST = '127.0.0.1';

export class MetricsHostError extends Error {
  override readonly name = 'MetricsHostError';
  readonly code = 'METRICS_HOST_REFUSED';
}

/** Pure: the host to listen on (canonical text), or a MetricsHostError saying why not and what to give instead. */
export function checkMetricsHost(host: string, ownsVip: (ip: string) => boolean): string {
  const ip = tryParseIp(host);
  if (ip === undefined) {
    throw new MetricsHostError(`--metrics-host ${JSON.stringify(host)} is not an IP address: give loopback (the default) or the node's own address (e.g. from the downward API's status.hostIP)`);
  }
  // An IPv4-mapped IPv6 address (::ffff:a.b.c.d) listens on the IPv4 address: judge that one.
  const v4 = isIpv4Mapped(ip) ? [...ip.bytes.slice(12)].join('.') : undefined;
  if (ip.bytes.every((b) => b === 0) || v4 === '0.0.0.0') {
    throw new MetricsHostError(`--metrics-host ${host} is a wildcard: in host networking it would answer on every VIP of this node; give loopback (the default) or the node's own address`);
  }
  if (ownsVip(ip.text) || (v4 !== undefined && ownsVip(v4))) throw new MetricsHostError(`--metrics-host ${host} lies inside the VIP CIDRs: the health server never listens on a VIP`);
  return ip.text;
}

/** Pure: several hosts (one listener each), each checked as {@link checkMetricsHost}; duplicates dropped, order kept. */
export function checkMetricsHosts(hosts: string | readonly string[], ownsVip: (ip: string) => boolean): string[] {
  const list = typeof hosts === 'string' ? [hosts] : [...hosts];
  if (list.length === 0) throw new MetricsHostError('no --metrics-host given: give loopback (the default) or the node\'s own address');
  const out: string[] = [];
  for (const host of list) {
    const checked = checkMetricsHost(host, ownsVip);
    if (!out.includes(checked)) out.push(checked);
  }
  return out;
}
