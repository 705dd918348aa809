// The pure "Desire" step of the endpoint-controller: pods on this node + balanced Services +
// EndpointSlices → which VIPs each pod's tunl0 must hold. No I/O, no clock, never throws on
// malformed objects, and the result depends only on the *set* of input objects.
import type { V1EndpointSlice, V1Pod, V1Service } from '@kubernetes/client-node';
import { endpointSliceServiceKey, isOurs, LEGACY_TUNNEL_IGNORE, legacyTunnelIgnore, parsePodConfig } from '@balanced/k8s';
import { field, ipv4, list, podRef, text, viewPod, type PodRef } from './pod-view.js';

export interface DesiredInput {
  /** Only pods with spec.nodeName equal to this are considered. */
  readonly nodeName: string;
  readonly pods: readonly V1Pod[];
  readonly services: readonly V1Service[];
  readonly endpointSlices: readonly V1EndpointSlice[];
  /** The VIP ranges this controller owns (the VipPools' and any --vip-cidr), as for the directors. */
  readonly ownsVip: (ip: string) => boolean;
  /** --default-class: also LoadBalancer Services with no loadBalancerClass. */
  readonly defaultClass: boolean;
}

/** A pod whose network namespace the controller manages. */
export interface PodTarget extends PodRef {
  /** The pod's IPv4 address: the interface holding it gives the MTU. */
  readonly podIP: string;
  /** Owned IPv4 VIPs of the Services the pod backs; ascending by address, unique. May be empty. */
  readonly vips: readonly string[];
  /** "namespace/name" of those Services, sorted (for Events and logs). */
  readonly services: readonly string[];
}

export type SkipReason = 'HostNetwork' | 'TunnelIgnore' | 'InvalidTunnelIgnore';

/** A pod on this node the controller leaves alone, and why (reported, never programmed). */
export interface SkippedPod {
  readonly pod: PodRef;
  readonly reason: SkipReason;
  readonly message: string;
}

export interface DesiredPods {
  /**
   * Every pod on this node whose namespace may be programmed (running or starting, with an
   * IPv4 address, not hostNetwork, not opted out), by UID, in namespace/name order. Pods that
   * back no Service are included with no VIPs: VIPs we added earlier must go.
   */
  readonly pods: ReadonlyMap<string, PodTarget>;
  /**
   * Opted-out or hostNetwork pods that back a balanced Service, and pods whose opt-out
   * annotation is invalid (whatever they back); sorted.
   */
  readonly skipped: readonly SkippedPod[];
}

const FINISHED_PHASES: ReadonlySet<string> = new Set(['Succeeded', 'Failed']);

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function compareRefs(a: PodRef, b: PodRef): number {
  return compareText(a.namespace, b.namespace) || compareText(a.name, b.name) || compareText(a.uid, b.uid);
}

/** Ascending numeric order of dotted-quad IPv4 text. */
export function compareIpv4(a: string, b: string): number {
  const x = a.split('.').map(Number);
  const y = b.split('.').map(Number);
  for (let i = 0; i < 4; i++) {
    const d = (x[i] ?? 0) - (y[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

interface Candidate {
  readonly raw: unknown;
  readonly ref: PodRef;
  readonly podIP: string | undefined;
  readonly skip: SkippedPod | undefined;
}

export function desiredPods(input: DesiredInput): DesiredPods {
  // Pods on this node, first by (namespace, name, uid) so duplicates resolve the same way
  // whatever the input order.
  const local: Candidate[] = [];
  for (const raw of list(input.pods)) {
    const v = viewPod(raw);
    if (v.nodeName !== input.nodeName || v.uid === '' || v.name === '' || FINISHED_PHASES.has(v.phase)) continue;
    const ref: PodRef = { namespace: v.namespace, name: v.name, uid: v.uid };
    local.push({ raw, ref, podIP: v.ipv4, skip: skipOf(raw, ref, v.hostNetwork) });
  }
  local.sort((a, b) => compareRefs(a.ref, b.ref) || compareText(jsonText(a.raw), jsonText(b.raw)));
  const byUid = new Map<string, Candidate>();
  const byName = new Map<string, Candidate>();
  for (const c of local) {
    if (byUid.has(c.ref.uid)) continue;
    byUid.set(c.ref.uid, c);
    const key = `${c.ref.namespace}/${c.ref.name}`;
    if (!byName.has(key)) byName.set(key, c);
  }

  // Services by namespace/name; their owned IPv4 VIPs computed on first use.
  const services = new Map<string, unknown>();
  for (const s of list(input.services)) {
    const r = podRef(s);
    const key = `${r.namespace}/${r.name}`;
    const seen = services.get(key);
    // Two objects of one name (malformed input): the lower UID, then the smaller JSON text.
    if (seen === undefined || (compareText(r.uid, podRef(seen).uid) || compareText(jsonText(s), jsonText(seen))) < 0) services.set(key, s);
  }
  const vipCache = new Map<string, readonly string[]>();
  const vipsOf = (serviceKey: string): readonly string[] => {
    const cached = vipCache.get(serviceKey);
    if (cached !== undefined) return cached;
    const svc = services.get(serviceKey);
    const vips: string[] = [];
    if (svc !== undefined && isOurs(svc as V1Service, { defaultClass: input.defaultClass })) {
      for (const ingress of list(field(field(field(svc, 'status'), 'loadBalancer'), 'ingress'))) {
        const ip = ipv4(field(ingress, 'ip'));
        if (ip !== undefined && input.ownsVip(ip) && !vips.includes(ip)) vips.push(ip);
      }
    }
    vipCache.set(serviceKey, vips);
    return vips;
  };

  // Endpoints → pods. Every endpoint listed counts, ready or not, terminating or not: the
  // directors keep sending a drained endpoint its established flows.
  const wanted = new Map<string, { vips: Set<string>; services: Set<string> }>();
  for (const slice of list(input.endpointSlices)) {
    if (field(slice, 'addressType') !== 'IPv4') continue;
    const serviceKey = endpointSliceServiceKey(slice);
    if (serviceKey === undefined) continue;
    const sliceNamespace = podRef(slice).namespace;
    for (const endpoint of list(field(slice, 'endpoints'))) {
      const target = field(endpoint, 'targetRef');
      const kind = field(target, 'kind');
      if (kind !== undefined && kind !== 'Pod') continue;
      const name = text(field(target, 'name'));
      if (name === '') continue;
      const uid = text(field(target, 'uid'));
      const namespace = text(field(target, 'namespace')) || sliceNamespace;
      const pod = uid !== '' ? byUid.get(uid) : byName.get(`${namespace}/${name}`);
      if (pod === undefined) continue;
      const vips = vipsOf(serviceKey);
      if (vips.length === 0) continue;
      const entry = wanted.get(pod.ref.uid) ?? { vips: new Set<string>(), services: new Set<string>() };
      for (const v of vips) entry.vips.add(v);
      entry.services.add(serviceKey);
      wanted.set(pod.ref.uid, entry);
    }
  }

  const pods = new Map<string, PodTarget>();
  const skipped: SkippedPod[] = [];
  for (const c of byUid.values()) {
    const w = wanted.get(c.ref.uid);
    if (c.skip !== undefined) {
      if (w !== undefined || c.skip.reason === 'InvalidTunnelIgnore') skipped.push(c.skip);
      continue;
    }
    if (c.podIP === undefined) continue; // no sandbox network yet: nothing to program
    pods.set(c.ref.uid, {
      ...c.ref,
      podIP: c.podIP,
      vips: w === undefined ? [] : [...w.vips].sort(compareIpv4),
      services: w === undefined ? [] : [...w.services].sort(compareText),
    });
  }
  return { pods, skipped };
}

function jsonText(value: unknown): string {
  try {
    return JSON.stringify(value) ?? '';
  } catch {
    return '';
  }
}

function skipOf(raw: unknown, ref: PodRef, hostNetwork: boolean): SkippedPod | undefined {
  if (hostNetwork) {
    return { pod: ref, reason: 'HostNetwork', message: 'the pod uses the node network namespace (hostNetwork); balanced leaves it alone' };
  }
  if (legacyTunnelIgnore(raw as V1Pod)) {
    return { pod: ref, reason: 'TunnelIgnore', message: `the pod opted out (BalanceD's ${LEGACY_TUNNEL_IGNORE}); balanced leaves its network namespace alone` };
  }
  const parsed = parsePodConfig(raw as V1Pod);
  if (!parsed.ok) {
    return { pod: ref, reason: 'InvalidTunnelIgnore', message: `${parsed.errors.map((e) => e.message).join('; ')}; the pod is left alone until this is fixed` };
  }
  if (parsed.config.tunnelIgnore) {
    return { pod: ref, reason: 'TunnelIgnore', message: 'the pod opted out (tunnel-ignore); balanced leaves its network namespace alone' };
  }
  return undefined;
}
