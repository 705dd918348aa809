import type { V1Service } from '@kubernetes/client-node';
import { serviceKeyString, type Protocol } from '@balanced/ipvs';
import type { Refusal } from '@balanced/k8s';
import { cidrOf, InvalidAddressError, parseAddressPrefix, parseIp } from '@balanced/net';

/** One guarded virtual service: only clients inside `ranges` may reach it through this director. */
export interface SourceRangeRule {
  /** serviceKeyString of the virtual service, e.g. "tcp/10.96.0.10:80". */
  readonly id: string;
  readonly protocol: Protocol;
  readonly address: string;
  readonly port: number;
  readonly family: 'inet' | 'inet6';
  /** CIDRs (canonical text), sorted, of the VIP's family. Empty: nobody. */
  readonly ranges: readonly string[];
  /** The Service (namespace/name) that asked for it. */
  readonly service: string;
}

export interface SourceRangePlan {
  /** Sorted by id. */
  readonly rules: readonly SourceRangeRule[];
  /** Malformed ranges (one per Service and entry), for Events. */
  readonly refusals: readonly Refusal[];
}

const PROTOCOLS: Readonly<Record<string, Protocol>> = { TCP: 'tcp', UDP: 'udp', SCTP: 'sctp' };

/**
 * Pure: `spec.loadBalancerSourceRanges` of every Service, as rules per virtual service this
 * director programs (`programmed` says which ids it does; VIPs are the Service's
 * status.loadBalancer.ingress IPs, as for IPVS). A range that does not parse is left out and
 * reported — fail closed: the Service still allows only its valid ranges (none valid: nobody),
 * since an open VIP is the failure the field exists to prevent. Entries are read as Kubernetes
 * and kube-proxy read them (Go's net.ParseCIDR): host bits are cleared ("10.0.0.7/8" allows
 * 10.0.0.0/8) — the API server accepts such entries, so refusing them would close a VIP the
 * user's Service opens everywhere else; a bare address is that one host. A range of the other address
 * family is simply not about this VIP (dual-stack Services list both).
 */
export function sourceRangeRules(services: readonly V1Service[], programmed: (id: string) => boolean): SourceRangePlan {
  const rules = new Map<string, SourceRangeRule>();
  const refusals: Refusal[] = [];
  for (const s of services) {
    const raw: unknown = s.spec?.loadBalancerSourceRanges;
    if (raw === undefined || raw === null) continue;
    const namespace = s.metadata?.namespace ?? '';
    const name = s.metadata?.name ?? '';
    const object = { kind: 'Service' as const, namespace, name, ...(s.metadata?.uid ? { uid: s.metadata.uid } : {}) };
    const entries: readonly unknown[] = Array.isArray(raw) ? raw : [raw];
    if (!Array.isArray(raw)) refusals.push({ object, reason: 'InvalidSourceRange', message: 'spec.loadBalancerSourceRanges is not a list; read as one entry' });
    const v4: string[] = [];
    const v6: string[] = [];
    for (const entry of entries) {
      let prefix;
      try {
        if (typeof entry !== 'string') throw new InvalidAddressError(entry, 'not a string');
        const read = parseAddressPrefix(entry.trim());
        prefix = cidrOf(read.address, read.prefixLength);
      } catch (e) {
        const why = e instanceof InvalidAddressError ? e.why : String(e);
        refusals.push({ object, reason: 'InvalidSourceRange', message: `spec.loadBalancerSourceRanges entry ${JSON.stringify(entry)} is not an IP range (CIDR): ${why}; it is ignored and the VIP stays closed to everything outside the valid ranges` });
        continue;
      }
      (prefix.family === 'inet' ? v4 : v6).push(prefix.text);
    }
    if (entries.length === 0) continue; // an empty list means no restriction (as in Kubernetes)
    const ports = Array.isArray(s.spec?.ports) ? s.spec.ports : [];
    const ingress = Array.isArray(s.status?.loadBalancer?.ingress) ? s.status.loadBalancer.ingress : [];
    for (const i of ingress) {
      let address: string;
      let family: 'inet' | 'inet6';
      try {
        const ip = parseIp(String(i?.ip ?? ''));
        address = ip.text;
        family = ip.family;
      } catch {
        continue; // the desired-state builder reports bad ingress IPs
      }
      for (const p of ports) {
        const protocol = PROTOCOLS[String(p?.protocol ?? 'TCP')];
        const port = p?.port;
        if (protocol === undefined || typeof port !== 'number') continue;
        const id = serviceKeyString({ protocol, address, port });
        if (!programmed(id) || rules.has(id)) continue;
        rules.set(id, { id, protocol, address, port, family, ranges: [...new Set(family === 'inet' ? v4 : v6)].sort(), service: `${namespace}/${name}` });
      }
    }
  }
  return { rules: [...rules.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)), refusals };
}

/** The nftables table balanced owns for source ranges. Nothing else is touched. */
export const SOURCE_RANGE_TABLE = 'balanced_source_ranges';

/**
 * Pure: the nft script that replaces the table in one transaction. Its prerouting chain runs
 * at raw priority, before conntrack and long before IPVS (LOCAL_IN): a packet to a guarded
 * VIP:port from outside its ranges is counted (per rule: the refusal metric) and dropped.
 * One set per VIP and port.
 */
export function renderSourceRanges(rules: readonly SourceRangeRule[], table = SOURCE_RANGE_TABLE): string {
  const lines = [`table inet ${table}`, `delete table inet ${table}`, `table inet ${table} {`];
  rules.forEach((r, n) => {
    const type = r.family === 'inet' ? 'ipv4_addr' : 'ipv6_addr';
    const elements = r.ranges.length > 0 ? ` elements = { ${r.ranges.join(', ')} };` : '';
    lines.push(`  set allow_${n} { type ${type}; flags interval; auto-merge;${elements} }`);
  });
  lines.push('  chain prerouting {', '    type filter hook prerouting priority raw; policy accept;');
  rules.forEach((r, n) => {
    const ip = r.family === 'inet' ? 'ip' : 'ip6';
    lines.push(`    ${ip} daddr ${r.address} meta l4proto ${r.protocol} th dport ${r.port} ${ip} saddr != @allow_${n} counter drop comment "${r.id}"`);
  });
  lines.push('  }', '}', '');
  return lines.join('\n');
}
