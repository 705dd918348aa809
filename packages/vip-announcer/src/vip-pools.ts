// VipPool objects (balanced.dev/v1alpha1, cluster-scoped) as the announcer needs them: which
// addresses a pool covers (to find the pool of a VIP) and its BGP communities. Pure; read
// defensively. A pool with a problem contributes no communities and the problem is reported
// (the vip-allocator and the admission webhook report it to the user as well). While spec.cidrs
// is invalid the pool also covers the last valid cidrs the vip-allocator recorded on it
// (@balanced/k8s vippool-upkeep.ts), as the VIP ranges do: its VIPs keep their communities.
import { recordedPoolRanges, type BgpCommunity } from '@balanced/k8s';
import { rangeContains, tryParseIpRange, type IpAddress } from '@balanced/net';

import { VIPPOOL_GROUP, VIPPOOL_PLURAL, VIPPOOL_VERSION } from '@balanced/k8s';

export { VIPPOOL_GROUP, VIPPOOL_PLURAL, VIPPOOL_VERSION };

export interface VipPoolView {
  readonly name: string;
  /** `a.b.c.d/n` or `first-last` entries of spec.cidrs, as predicates. */
  readonly contains: (ip: IpAddress) => boolean;
  /** Sorted, de-duplicated. */
  readonly communities: readonly BgpCommunity[];
}

export interface VipPools {
  /** Sorted by name. */
  readonly pools: readonly VipPoolView[];
  /** One line per unusable pool or entry. */
  readonly problems: readonly string[];
}

type Rec = Readonly<Record<string, unknown>>;
function prop(v: unknown, key: string): unknown {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && Object.hasOwn(v, key) ? (v as Rec)[key] : undefined;
}

const COMMUNITY = /^(\d{1,5}):(\d{1,5})$/;

/** Parses `asn:value` (both 0..65535); undefined when it is not one. */
export function parseCommunity(text: unknown): BgpCommunity | undefined {
  const m = typeof text === 'string' ? COMMUNITY.exec(text.trim()) : null;
  if (m === null) return undefined;
  const asn = Number(m[1]);
  const value = Number(m[2]);
  return asn <= 65535 && value <= 65535 ? { asn, value } : undefined;
}

export function compareCommunities(a: BgpCommunity, b: BgpCommunity): number {
  return a.asn - b.asn || a.value - b.value;
}

/** Sorted, without repeats. */
export function uniqueCommunities(list: readonly BgpCommunity[]): BgpCommunity[] {
  const sorted = [...list].sort(compareCommunities);
  return sorted.filter((c, i) => i === 0 || compareCommunities(c, sorted[i - 1] as BgpCommunity) !== 0);
}

/** A CIDR (host bits refused) or first-last entry, read as the vip-allocator reads it (@balanced/net parseIpRange). */
function rangeEntry(text: string): ((ip: IpAddress) => boolean) | undefined {
  const range = tryParseIpRange(text);
  return range === undefined ? undefined : (ip) => rangeContains(range, ip);
}

export function readVipPools(objects: readonly unknown[]): VipPools {
  const pools: VipPoolView[] = [];
  const problems: string[] = [];
  for (const o of objects) {
    const name = prop(prop(o, 'metadata'), 'name');
    if (typeof name !== 'string' || name === '') {
      problems.push('a VipPool without metadata.name was ignored');
      continue;
    }
    const spec = prop(o, 'spec');
    const entries: ((ip: IpAddress) => boolean)[] = [];
    const cidrs = prop(spec, 'cidrs');
    for (const [i, c] of (Array.isArray(cidrs) ? cidrs : []).entries()) {
      const entry = typeof c === 'string' ? rangeEntry(c) : undefined;
      if (entry === undefined) problems.push(`VipPool ${name}: spec.cidrs[${i}] ${JSON.stringify(c)} is not a CIDR (without host bits) or a first-last range; ignored`);
      else entries.push(entry);
    }
    const specValid = Array.isArray(cidrs) && cidrs.length > 0 && entries.length === cidrs.length;
    for (const range of specValid ? [] : (recordedPoolRanges(o) ?? [])) entries.push((ip) => rangeContains(range, ip));
    const communities: BgpCommunity[] = [];
    const raw = prop(spec, 'bgpCommunities');
    let bad = false;
    for (const [i, c] of (Array.isArray(raw) ? raw : []).entries()) {
      const community = parseCommunity(c);
      if (community === undefined) {
        problems.push(`VipPool ${name}: spec.bgpCommunities[${i}] ${JSON.stringify(c)} is not asn:value (0..65535 each); the pool's communities were not used`);
        bad = true;
      } else communities.push(community);
    }
    pools.push({ name, contains: (ip) => entries.some((e) => e(ip)), communities: bad ? [] : uniqueCommunities(communities) });
  }
  pools.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return { pools, problems };
}
