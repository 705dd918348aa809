// Which VIPs this director announces, and with which BGP communities (pure).
//
// The ipvs-controller beside us programs a virtual service for every Service port with at
// least one destination; a VIP is worth announcing only while one of its virtual services
// has a *ready* destination. To agree with it exactly, the same builder decides:
// buildServiceDesired of @balanced/k8s per Service, the same rule for keeping a live Service's
// last good state through an annotation error, across restarts too (buildKeepingLastGood of
// @balanced/k8s, which ipvs-controller's DesiredIndex calls as well), and the same
// VIP:port conflict resolution (older Service wins; fresh claims before kept ones).
//
// Communities of a VIP: those of its VipPool (the pool named by balanced.dev/ip-pool, else the
// first pool, by name, whose spec.cidrs hold the VIP) and of every Service's
// balanced.dev/bgp-communities, merged and sorted.
import type { V1EndpointSlice, V1Service } from '@kubernetes/client-node';
import {
  asString,
  buildKeepingLastGood,
  endpointSliceServiceKey,
  namespacedKey,
  prop,
  resolvePoolReference,
  resolveVipPortConflicts,
  type BgpCommunity,
  type DesiredService,
  type ServiceCandidate,
} from '@balanced/k8s';
import { compareIp, tryParseIp } from '@balanced/net';
import { uniqueCommunities, type VipPoolView } from './vip-pools.js';

export type WithholdReason = 'ControllerUnhealthy' | 'NoReadyEndpoints';

export interface Announcement {
  readonly vip: string;
  /** Sorted, de-duplicated. */
  readonly communities: readonly BgpCommunity[];
  /** `namespace/name` of the Services on this VIP, sorted. */
  readonly services: readonly string[];
  /** The VipPool whose communities apply, if any. */
  readonly pool: string | undefined;
}

export interface WithheldVip {
  readonly vip: string;
  readonly reason: WithholdReason;
  readonly services: readonly string[];
}

export interface AnnouncementPlan {
  /** In address order (IPv4 first). */
  readonly announced: readonly Announcement[];
  /** VIPs we would announce if healthy / if they had a ready endpoint; address order. */
  readonly withheld: readonly WithheldVip[];
  /** Things worth a log line (a named pool that does not exist, …); sorted, unique. */
  readonly problems: readonly string[];
}

/** Per Service (`namespace/name`): the candidates of its last good build. */
export type LastGood = ReadonlyMap<string, readonly ServiceCandidate[]>;

export interface AnnouncementInput {
  readonly services: readonly V1Service[];
  readonly endpointSlices: readonly V1EndpointSlice[];
  readonly pools: readonly VipPoolView[];
  /** The VIP lies inside the announcer's CIDRs. */
  readonly ownsVip: (ip: string) => boolean;
  readonly defaultClass: boolean;
  /** This director's ipvs-controller is ready. When false nothing is announced. */
  readonly controllerHealthy: boolean;
  /** From the previous plan (empty at start). */
  readonly lastGood: LastGood;
}

function key(namespace: string | undefined, name: string | undefined): string {
  return namespacedKey(namespace ?? '', name ?? '');
}

/** `namespace/name` read defensively: a field that is not a string counts as empty, as in objectRef. */
function serviceKey(service: unknown): string {
  const metadata = prop(service, 'metadata');
  return key(asString(prop(metadata, 'namespace')), asString(prop(metadata, 'name')));
}

function candidatesOf(input: AnnouncementInput): { fresh: ServiceCandidate[]; kept: ServiceCandidate[]; lastGood: Map<string, readonly ServiceCandidate[]> } {
  const slices = new Map<string, V1EndpointSlice[]>();
  for (const s of input.endpointSlices) {
    const owner = endpointSliceServiceKey(s);
    if (owner === undefined) continue;
    const list = slices.get(owner);
    if (list === undefined) slices.set(owner, [s]);
    else list.push(s);
  }
  const fresh: ServiceCandidate[] = [];
  const kept: ServiceCandidate[] = [];
  const lastGood = new Map<string, readonly ServiceCandidate[]>();
  const seen = new Set<string>();
  for (const service of input.services) {
    const source = serviceKey(service);
    if (seen.has(source)) continue; // a malformed cache listing one Service twice: first wins
    seen.add(source);
    const built = buildKeepingLastGood({ service, endpointSlices: slices.get(source) ?? [], ownsVip: input.ownsVip, defaultClass: input.defaultClass }, input.lastGood.get(source) ?? []);
    if (built.kept) {
      kept.push(...built.candidates);
      lastGood.set(source, built.candidates);
    } else {
      fresh.push(...built.candidates);
      if (built.candidates.length > 0) lastGood.set(source, built.candidates);
    }
  }
  return { fresh, kept, lastGood };
}

/** VIP:port → its holder: fresh claims first (a kept state never beats a valid Service). */
function settle(fresh: readonly ServiceCandidate[], kept: readonly ServiceCandidate[]): DesiredService[] {
  const byId = new Map<string, { fresh: ServiceCandidate[]; kept: ServiceCandidate[] }>();
  const id = (c: ServiceCandidate): string => `${c.service.key.protocol}/${c.service.key.address}/${c.service.key.port}`;
  for (const c of fresh) {
    const e = byId.get(id(c)) ?? { fresh: [], kept: [] };
    e.fresh.push(c);
    byId.set(id(c), e);
  }
  for (const c of kept) {
    const e = byId.get(id(c)) ?? { fresh: [], kept: [] };
    e.kept.push(c);
    byId.set(id(c), e);
  }
  const out: DesiredService[] = [];
  for (const e of byId.values()) out.push(...resolveVipPortConflicts(e.fresh.length > 0 ? e.fresh : e.kept).services);
  return out;
}

export function planAnnouncements(input: AnnouncementInput): { plan: AnnouncementPlan; lastGood: LastGood } {
  const { fresh, kept, lastGood } = candidatesOf(input);
  const winners = settle(fresh, kept);

  const byVip = new Map<string, DesiredService[]>();
  for (const s of winners) {
    const list = byVip.get(s.key.address);
    if (list === undefined) byVip.set(s.key.address, [s]);
    else list.push(s);
  }
  const announced: Announcement[] = [];
  const withheld: WithheldVip[] = [];
  const problems = new Set<string>();
  const pools = [...input.pools].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const poolsByName = new Map<string, VipPoolView>();
  for (const p of pools) if (!poolsByName.has(p.name)) poolsByName.set(p.name, p);
  const vips = [...byVip.keys()]
    .map((text) => ({ text, ip: tryParseIp(text) }))
    .filter((v): v is { text: string; ip: NonNullable<typeof v.ip> } => v.ip !== undefined)
    .sort((a, b) => compareIp(a.ip, b.ip));

  for (const { text: vip, ip } of vips) {
    const list = byVip.get(vip) ?? [];
    const services = [...new Set(list.map((s) => key(s.source.namespace, s.source.name)))].sort();
    const ready = list.some((s) => s.destinations.some((d) => d.weight > 0));
    if (!input.controllerHealthy || !ready) {
      withheld.push({ vip, reason: input.controllerHealthy ? 'NoReadyEndpoints' : 'ControllerUnhealthy', services });
      continue;
    }
    const communities: BgpCommunity[] = [];
    const named = [...new Set(list.map((s) => s.config.ipPool).filter((p): p is string => p !== undefined))].sort();
    let pool: VipPoolView | undefined;
    for (const name of named) {
      // A BalanceD ip-pool CIDR names the pool containing it (resolvePoolReference, @balanced/k8s).
      const found = poolsByName.get(resolvePoolReference(name, pools, (p) => p.name, (p, ip) => { const a = tryParseIp(ip); return a !== undefined && p.contains(a); }) ?? name);
      if (found === undefined) problems.add(`VIP ${vip}: VipPool ${name} (named by balanced.dev/ip-pool of ${services.join(', ')}) does not exist; announced without its communities`);
      else if (pool === undefined) pool = found;
      else problems.add(`VIP ${vip}: its Services name different VipPools (${named.join(', ')}); using ${pool.name}'s communities`);
    }
    if (named.length === 0) pool = pools.find((p) => p.contains(ip));
    if (pool !== undefined) communities.push(...pool.communities);
    for (const s of list) communities.push(...s.config.bgpCommunities);
    announced.push({ vip, communities: uniqueCommunities(communities), services, pool: pool?.name });
  }
  return { plan: { announced, withheld, problems: [...problems].sort() }, lastGood };
}
