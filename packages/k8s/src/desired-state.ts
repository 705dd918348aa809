// The pure desired-state builder of the ipvs-controller: Services + EndpointSlices (+ Pods) →
// the IPVS virtual services and destinations every director must hold. "Desire" step of the
// controller pattern (DESIGN.md): no I/O, no clock, never throws on malformed objects, and the
// output is a pure function of the *set* of input objects (their order does not matter).
import type { V1EndpointSlice, V1Pod, V1Service } from '@kubernetes/client-node';
import {
  serviceKeyString,
  type DestinationKey,
  type ForwardingMethod,
  type Protocol,
  type ServiceSpec,
  type TunnelSpec,
} from '@balanced/ipvs';
import { parseIp, type AddressFamily, type IpAddress } from '@balanced/net';
import { isOurs, type ServiceConfig, type ServiceConfigDefaults } from './annotations.js';
import { parseForDirectors } from './balanced-compat.js';
import { asArray, asBoolean, asPort, asString, compareStrings, namespacedKey, objectRef, prop, show, type ObjectRef } from './read.js';

/** Label that joins an EndpointSlice to its Service (same namespace). */
export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';

export interface DesiredInput {
  readonly services: readonly V1Service[];
  readonly endpointSlices: readonly V1EndpointSlice[];
  /** For the default drain period: the largest terminationGracePeriodSeconds of a Service's pods. */
  readonly pods?: readonly V1Pod[];
  /** Whether this director may program a VIP (it lies inside a configured pool/CIDR). */
  readonly ownsVip: (ip: string) => boolean;
  /** --default-class: also take LoadBalancer Services with no loadBalancerClass. */
  readonly defaultClass: boolean;
  readonly defaults?: Partial<ServiceConfigDefaults>;
}

export interface InvolvedObject extends ObjectRef {
  readonly kind: 'Service' | 'EndpointSlice';
}

/** Something we would not program, or a warning about it; meant to become a Kubernetes Event. */
export interface Refusal {
  readonly object: InvolvedObject;
  /** CamelCase Event reason, e.g. `PortMismatch`, `VipNotOwned`, `InvalidScheduler`. */
  readonly reason: string;
  readonly message: string;
  /** The offending field, when there is one (annotation errors). */
  readonly field?: string;
}

export interface TargetRef {
  readonly namespace: string;
  readonly name: string;
  readonly uid?: string;
}

export interface DesiredDestination extends DestinationKey {
  readonly forwarding: ForwardingMethod;
  /** 1 for a ready endpoint; 0 = drained (terminating or not ready). */
  readonly weight: number;
  /**
   * The weight the kernel's mh table must be built with: the weight the destination has when it
   * is not drained (1), also while it is drained. The kernel keeps last_weight when the weight
   * goes to 0, so a director that drained in place and a fresh director that adds the
   * destination drained must end up with the same table: the fresh one must add it with
   * lastWeight first, then set weight 0 (and `explain` must model it with lastWeight).
   */
  readonly lastWeight: number;
  readonly tunnel?: TunnelSpec;
  // (No pod reference: a director holds one of these per endpoint of every Service, and only
  // the address matters to IPVS; the EndpointSlice in the cache says which pod it is.)
}

/** A Service key made of protocol/address/port (never a firewall mark here). */
export interface VirtualServiceKey {
  readonly protocol: Protocol;
  readonly address: string;
  readonly port: number;
}

export interface DesiredService {
  readonly source: ObjectRef;
  readonly key: VirtualServiceKey;
  /** The Service port's name ('' when unnamed). */
  readonly portName: string;
  readonly spec: ServiceSpec & { readonly key: VirtualServiceKey };
  /**
   * In canonical order (see canonicalCompare): the order the kernel's destination list must hold,
   * head first. The kernel puts new destinations at the head, so to reach this order from
   * scratch add them last-to-first.
   */
  readonly destinations: readonly DesiredDestination[];
  readonly drainSeconds: number;
  readonly config: ServiceConfig;
}

export interface DesiredState {
  /** Sorted by serviceKeyString(key); keys are unique. */
  readonly services: DesiredService[];
  /** Sorted and de-duplicated. */
  readonly refusals: Refusal[];
  /** Accepted, but worth telling the owner (reason `AnnotationWarning`); sorted. */
  readonly warnings: Refusal[];
}

// ---------------------------------------------------------------------------------------------
// Canonical destination order

function ipOrUndefined(text: string): IpAddress | undefined {
  try {
    return parseIp(text);
  } catch {
    return undefined;
  }
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  if (a.length !== b.length) return a.length - b.length; // IPv4 before IPv6
  for (let i = 0; i < a.length; i++) {
    const d = (a[i] ?? 0) - (b[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

/**
 * The one destination order every director holds: ascending by address bytes (IPv4 before IPv6),
 * then port. A pure function of the destination set, so directors with different event histories
 * build the same mh table. Unparsable addresses (never produced by buildDesired) sort last, by text.
 */
export function canonicalCompare(a: DestinationKey, b: DestinationKey): number {
  const x = ipOrUndefined(a.address);
  const y = ipOrUndefined(b.address);
  if (x !== undefined && y !== undefined) {
    const d = compareBytes(x.bytes, y.bytes);
    if (d !== 0) return d;
  } else if (x !== undefined) {
    return -1;
  } else if (y !== undefined) {
    return 1;
  } else {
    const d = compareStrings(a.address, b.address);
    if (d !== 0) return d;
  }
  return a.port - b.port;
}

// ---------------------------------------------------------------------------------------------
// Reading the objects

interface ServicePort {
  readonly name: string;
  readonly protocol: Protocol;
  readonly k8sProtocol: string;
  readonly port: number;
}

interface Endpoint {
  readonly ip: IpAddress;
  readonly weight: number;
  readonly targetRef: TargetRef | undefined;
  readonly targetKind: string | undefined;
}

interface Slice {
  readonly ref: ObjectRef;
  readonly family: AddressFamily;
  /** name → { protocol, port | undefined } */
  readonly ports: readonly { readonly name: string; readonly protocol: string; readonly port: number | undefined }[];
  readonly endpoints: readonly Endpoint[];
  /** Reported only when a Service of ours uses the slice. */
  readonly problems: readonly Refusal[];
}

const PROTOCOLS: Readonly<Record<string, Protocol>> = { TCP: 'tcp', UDP: 'udp', SCTP: 'sctp' };

function sliceFamily(addressType: unknown): AddressFamily | undefined {
  if (addressType === 'IPv4') return 'inet';
  if (addressType === 'IPv6') return 'inet6';
  return undefined; // FQDN (deprecated) or garbage
}

/** ready (nil = ready, per the API) and not terminating → 1; otherwise drained → 0. */
function endpointWeight(conditions: unknown): number {
  const ready = asBoolean(prop(conditions, 'ready'));
  const terminating = asBoolean(prop(conditions, 'terminating'));
  return ready !== false && terminating !== true ? 1 : 0;
}

function readSlice(raw: unknown): { key: string; slice: Slice } | undefined {
  const key = endpointSliceServiceKey(raw);
  if (key === undefined) return undefined;
  const ref = objectRef(raw);
  const family = sliceFamily(prop(raw, 'addressType'));
  if (family === undefined) return undefined;
  const object: InvolvedObject = { kind: 'EndpointSlice', ...ref };

  const ports = asArray(prop(raw, 'ports')).map((p) => ({
    name: asString(prop(p, 'name')) ?? '',
    protocol: asString(prop(p, 'protocol')) ?? 'TCP',
    port: asPort(prop(p, 'port')),
  }));

  const endpoints: Endpoint[] = [];
  const problems: Refusal[] = [];
  for (const e of asArray(prop(raw, 'endpoints'))) {
    // "Consumers … may choose to only use the first element" (EndpointSlice API); kube-proxy does.
    const first = asArray(prop(e, 'addresses'))[0];
    const ip = typeof first === 'string' ? ipOrUndefined(first) : undefined;
    if (ip === undefined || ip.family !== family) {
      problems.push({
        object,
        reason: 'InvalidEndpointAddress',
        message: `endpoint address ${show(first)} is not an ${family === 'inet' ? 'IPv4' : 'IPv6'} address (addressType ${show(prop(raw, 'addressType'))}); the endpoint was skipped`,
      });
      continue;
    }
    const t = prop(e, 'targetRef');
    const tName = asString(prop(t, 'name'));
    const tUid = asString(prop(t, 'uid'));
    const targetRef: TargetRef | undefined =
      tName === undefined || tName === ''
        ? undefined
        : { namespace: asString(prop(t, 'namespace')) ?? ref.namespace, name: tName, ...(tUid ? { uid: tUid } : {}) };
    endpoints.push({ ip, weight: endpointWeight(prop(e, 'conditions')), targetRef, targetKind: asString(prop(t, 'kind')) });
  }
  return { key, slice: { ref, family, ports, endpoints, problems } };
}

function timestamp(value: unknown): number {
  const ms = value instanceof Date ? value.getTime() : typeof value === 'string' ? Date.parse(value) : Number.NaN;
  return Number.isFinite(ms) ? ms : Number.POSITIVE_INFINITY;
}

function targetRefKey(t: TargetRef | undefined): string {
  return t === undefined ? '' : `${t.namespace}/${t.name}/${t.uid ?? ''}`;
}

// ---------------------------------------------------------------------------------------------
// The builder

/** One virtual service a Service asks for, before conflicts between Services are settled. */
export interface ServiceCandidate {
  readonly service: DesiredService;
  /** creationTimestamp in ms (+Infinity when absent): the older Service wins a VIP:port. */
  readonly created: number;
  readonly object: InvolvedObject;
}

export interface ServiceDesired {
  readonly candidates: readonly ServiceCandidate[];
  /** Sorted and de-duplicated. */
  readonly refusals: readonly Refusal[];
  readonly warnings: readonly Refusal[];
}

function compareRefusals(a: Refusal, b: Refusal): number {
  return (
    compareStrings(a.object.kind, b.object.kind) ||
    compareStrings(a.object.namespace, b.object.namespace) ||
    compareStrings(a.object.name, b.object.name) ||
    compareStrings(a.object.uid ?? '', b.object.uid ?? '') ||
    compareStrings(a.reason, b.reason) ||
    compareStrings(a.field ?? '', b.field ?? '') ||
    compareStrings(a.message, b.message)
  );
}

function sortUnique(list: readonly Refusal[]): Refusal[] {
  const sorted = [...list].sort(compareRefusals);
  return sorted.filter((r, i) => i === 0 || compareRefusals(r, sorted[i - 1] as Refusal) !== 0);
}

/**
 * Build what every director must program. Only `status.loadBalancer.ingress[].ip` names VIPs
 * (vip-allocator writes it after honouring `spec.loadBalancerIP` / `balanced.dev/ip-request`);
 * a Service without an ingress IP yet yields nothing and is not an error.
 */
export function buildDesired(input: DesiredInput): DesiredState {
  // EndpointSlices by "<namespace>/<service name>"
  const slicesByService = new Map<string, Slice[]>();
  for (const raw of asArray(input.endpointSlices)) {
    const read = readSlice(raw);
    if (read === undefined) continue;
    const list = slicesByService.get(read.key);
    if (list === undefined) slicesByService.set(read.key, [read.slice]);
    else list.push(read.slice);
  }
  const graceOf = podGraceLookup(input.pods);
  const candidates: ServiceCandidate[] = [];
  const refusals: Refusal[] = [];
  const warnings: Refusal[] = [];
  for (const raw of asArray(input.services)) {
    const ref = objectRef(raw);
    const one = serviceDesired(raw as V1Service, slicesByService.get(`${ref.namespace}/${ref.name}`) ?? [], graceOf, input);
    candidates.push(...one.candidates);
    refusals.push(...one.refusals);
    warnings.push(...one.warnings);
  }
  const resolved = resolveVipPortConflicts(candidates);
  return { services: resolved.services, refusals: sortUnique([...refusals, ...resolved.refusals]), warnings: sortUnique(warnings) };
}

export interface ServiceDesiredInput extends Omit<DesiredInput, 'services'> {
  readonly service: V1Service;
}

/**
 * What one Service asks for, before conflicts with other Services are settled: the same rules
 * as buildDesired, for callers that rebuild only the Services that changed. `endpointSlices`
 * may hold any slices: only this Service's are read. `pods` only serve the default drain period.
 */
export function buildServiceDesired(input: ServiceDesiredInput): ServiceDesired {
  const ref = objectRef(input.service);
  const own = `${ref.namespace}/${ref.name}`;
  const slices: Slice[] = [];
  for (const raw of asArray(input.endpointSlices)) {
    const read = readSlice(raw);
    if (read !== undefined && read.key === own) slices.push(read.slice);
  }
  const one = serviceDesired(input.service, slices, podGraceLookup(input.pods), input);
  return { candidates: one.candidates, refusals: sortUnique(one.refusals), warnings: sortUnique(one.warnings) };
}

/** "<namespace>/<service name>" of the Service an EndpointSlice belongs to, if it names one. */
export function endpointSliceServiceKey(raw: unknown): string | undefined {
  const ref = objectRef(raw);
  const serviceName = asString(prop(prop(prop(raw, 'metadata'), 'labels'), SERVICE_NAME_LABEL));
  if (serviceName === undefined || serviceName === '' || ref.name === '') return undefined;
  return namespacedKey(ref.namespace, serviceName);
}

/** Pods (namespace/name) an EndpointSlice's endpoints point at, for the default drain period. */
export function endpointSlicePodRefs(raw: unknown): string[] {
  const namespace = objectRef(raw).namespace;
  const out: string[] = [];
  for (const e of asArray(prop(raw, 'endpoints'))) {
    const t = prop(e, 'targetRef');
    const name = asString(prop(t, 'name'));
    const kind = asString(prop(t, 'kind'));
    if (name === undefined || name === '' || (kind !== undefined && kind !== 'Pod')) continue;
    out.push(namespacedKey(asString(prop(t, 'namespace')) ?? namespace, name));
  }
  return out;
}

function podGraceLookup(pods: readonly V1Pod[] | undefined): (t: TargetRef) => number | undefined {
  // Pods by namespace/name, for terminationGracePeriodSeconds
  const podsByName = new Map<string, { uid: string | undefined; grace: number | undefined }[]>();
  for (const raw of asArray(pods)) {
    const ref = objectRef(raw);
    const g = prop(prop(raw, 'spec'), 'terminationGracePeriodSeconds');
    const grace = typeof g === 'number' && Number.isSafeInteger(g) && g >= 0 ? g : undefined;
    const key = `${ref.namespace}/${ref.name}`;
    const list = podsByName.get(key) ?? [];
    list.push({ uid: ref.uid, grace });
    podsByName.set(key, list);
  }
  return (t) => {
    let best: number | undefined;
    for (const p of podsByName.get(`${t.namespace}/${t.name}`) ?? []) {
      if (t.uid !== undefined && p.uid !== undefined && t.uid !== p.uid) continue; // a different pod of that name
      if (p.grace !== undefined && (best === undefined || p.grace > best)) best = p.grace;
    }
    return best;
  };
}

interface OneService {
  readonly candidates: ServiceCandidate[];
  readonly refusals: Refusal[];
  readonly warnings: Refusal[];
}

function serviceDesired(
  service: V1Service,
  slices: readonly Slice[],
  graceOf: (t: TargetRef) => number | undefined,
  input: Omit<DesiredInput, 'services' | 'endpointSlices' | 'pods'>,
): OneService {
  const refusals: Refusal[] = [];
  const warnings: Refusal[] = [];
  const candidates: ServiceCandidate[] = [];
  const done = (): OneService => ({ candidates, refusals, warnings });
  const created = timestamp(prop(prop(service, 'metadata'), 'creationTimestamp'));
  if (!isOurs(service, { defaultClass: input.defaultClass })) return done();
  const ref = objectRef(service);
  const object: InvolvedObject = { kind: 'Service', ...ref };
  if (ref.name === '' || ref.namespace === '') {
    refusals.push({ object, reason: 'InvalidObject', message: 'the Service has no metadata.name or metadata.namespace' });
    return done();
  }

  const parsed = parseForDirectors(service, input.defaults); // allocation-only errors are the allocator's
  if (!parsed.ok) {
    for (const e of parsed.errors) refusals.push({ object, reason: e.reason, message: e.message, field: e.field });
    return done();
  }
  for (const w of parsed.warnings) warnings.push({ object, reason: 'AnnotationWarning', message: w });
  const config = parsed.config;

  // VIPs: status.loadBalancer.ingress[].ip, normalised, de-duplicated, owned.
  const vips: IpAddress[] = [];
  for (const ingress of asArray(prop(prop(prop(service, 'status'), 'loadBalancer'), 'ingress'))) {
    const text = prop(ingress, 'ip');
    if (text === undefined || text === null || text === '') continue; // hostname-only ingress: not ours to program
    const ip = typeof text === 'string' ? ipOrUndefined(text) : undefined;
    if (ip === undefined) {
      refusals.push({ object, reason: 'InvalidIngressIp', message: `status.loadBalancer.ingress ip ${show(text)} is not an IP address; it was skipped` });
      continue;
    }
    if (vips.some((v) => v.text === ip.text)) continue;
    if (!input.ownsVip(ip.text)) {
      refusals.push({
        object,
        reason: 'VipNotOwned',
        message: `VIP ${ip.text} is outside the pools/CIDRs this director manages; it was not programmed`,
      });
      continue;
    }
    vips.push(ip);
  }

  // Ports
  const ports: ServicePort[] = [];
  for (const [i, p] of asArray(prop(prop(service, 'spec'), 'ports')).entries()) {
    const name = asString(prop(p, 'name')) ?? '';
    const k8sProtocol = prop(p, 'protocol') ?? 'TCP';
    const protocol = typeof k8sProtocol === 'string' && Object.hasOwn(PROTOCOLS, k8sProtocol) ? PROTOCOLS[k8sProtocol] : undefined;
    const port = asPort(prop(p, 'port'));
    if (protocol === undefined || port === undefined) {
      refusals.push({
        object,
        reason: 'InvalidServicePort',
        field: `spec.ports[${i}]`,
        message: `spec.ports[${i}] ${show(p)} needs protocol TCP, UDP or SCTP and a port 1..65535; that port was skipped`,
      });
      continue;
    }
    if (ports.some((q) => q.protocol === protocol && q.port === port)) {
      refusals.push({
        object,
        reason: 'InvalidServicePort',
        field: `spec.ports[${i}]`,
        message: `spec.ports[${i}] repeats ${String(k8sProtocol)} ${port}; the repeat was skipped`,
      });
      continue;
    }
    ports.push({ name, protocol, k8sProtocol: k8sProtocol as string, port });
  }

    for (const s of slices) refusals.push(...s.problems);
  const forwarding: ForwardingMethod = config.forwarding === 'direct' ? 'direct' : 'tunnel';
  const tunnel: TunnelSpec | undefined =
    config.forwarding === 'tunnel'
      ? { type: 'ipip' }
      : config.forwarding === 'gue'
        ? { type: 'gue', ...(config.guePort === undefined ? {} : { port: config.guePort }) }
        : undefined;

  // Drain period: annotation, else the largest grace period among the Service's pods, else default.
  let podGrace: number | undefined;
  if (config.drainSecondsSource === 'default') {
    for (const s of slices) {
      for (const e of s.endpoints) {
        if (e.targetRef === undefined || (e.targetKind !== undefined && e.targetKind !== 'Pod')) continue;
        const g = graceOf(e.targetRef);
        if (g !== undefined && (podGrace === undefined || g > podGrace)) podGrace = g;
      }
    }
  }
  const drainSeconds = config.drainSecondsSource === 'annotation' ? config.drainSeconds : (podGrace ?? config.drainSeconds);

  const scheduler = config.scheduler;
  const spec = (key: VirtualServiceKey): DesiredService['spec'] => ({ key, scheduler, flags: config.flags });

  for (const sp of ports) {
    // The slices' port entry for this service port: same name (EndpointSlices resolve named
    // targetPorts to numbers) and protocol.
    const mismatches: string[] = [];
    const byFamily = new Map<AddressFamily, Endpoint[]>();
    for (const s of slices) {
      // (The API keeps port names unique in a slice; a malformed slice with repeats must still
      // give an order-independent answer, so every matching entry must agree.)
      const entries = s.ports.filter((q) => q.name === sp.name && q.protocol === sp.k8sProtocol && q.port !== undefined);
      if (entries.length === 0) continue;
      const other = entries.find((q) => q.port !== sp.port);
      if (other !== undefined) {
        const found = [...new Set(entries.map((q) => q.port))].sort((x, y) => (x ?? 0) - (y ?? 0)).join('/');
        if (s.endpoints.length > 0) mismatches.push(`${found} (EndpointSlice ${s.ref.name})`);
        continue;
      }
      const list = byFamily.get(s.family) ?? [];
      list.push(...s.endpoints);
      byFamily.set(s.family, list);
    }
    if (mismatches.length > 0) {
      mismatches.sort();
      const label = sp.name === '' ? `${sp.k8sProtocol} ${sp.port}` : `"${sp.name}" (${sp.k8sProtocol} ${sp.port})`;
      refusals.push({
        object,
        reason: 'PortMismatch',
        message:
          `service port ${label} reaches its pods on port ${mismatches.join(', ')}: ` +
          `IPIP/direct-return forwarding cannot rewrite ports, so the pods must listen on ${sp.port}; ` +
          `set targetPort to ${sp.port} (and the container port to match). The port was not programmed`,
      });
      continue;
    }

    for (const vip of vips) {
      // Merge duplicates (an address in two slices): ready wins, then a stable tie-break.
      const merged = new Map<string, Endpoint>();
      for (const e of byFamily.get(vip.family) ?? []) {
        const seen = merged.get(e.ip.text);
        if (
          seen === undefined ||
          e.weight > seen.weight ||
          (e.weight === seen.weight && compareStrings(targetRefKey(e.targetRef), targetRefKey(seen.targetRef)) < 0)
        ) {
          merged.set(e.ip.text, e);
        }
      }
      const destinations = [...merged.values()]
        .sort((a, b) => compareBytes(a.ip.bytes, b.ip.bytes))
        .map(
          (e): DesiredDestination => ({
            address: e.ip.text,
            port: sp.port,
            forwarding,
            weight: e.weight,
            lastWeight: 1,
            ...(tunnel === undefined ? {} : { tunnel }),
          }),
        );
      const key: VirtualServiceKey = { protocol: sp.protocol, address: vip.text, port: sp.port };
      const desired: DesiredService = { source: ref, key, portName: sp.name, spec: spec(key), destinations, drainSeconds, config };
      candidates.push({ service: desired, created, object });
    }
  }
  return done();
}

/**
 * Two Services on one VIP:port/protocol: the older one keeps it (then namespace/name/uid); the
 * others get a VipPortConflict refusal. Output sorted by serviceKeyString(key).
 */
export function resolveVipPortConflicts(all: readonly ServiceCandidate[]): { services: DesiredService[]; refusals: Refusal[] } {
  const candidates = new Map<string, ServiceCandidate[]>();
  for (const c of all) {
    const k = serviceKeyString(c.service.key);
    const list = candidates.get(k);
    if (list === undefined) candidates.set(k, [c]);
    else list.push(c);
  }
  const refusals: Refusal[] = [];
  const services: DesiredService[] = [];
  for (const [k, list] of candidates) {
    list.sort(
      (a, b) =>
        (a.created === b.created ? 0 : a.created < b.created ? -1 : 1) ||
        compareStrings(a.object.namespace, b.object.namespace) ||
        compareStrings(a.object.name, b.object.name) ||
        compareStrings(a.object.uid ?? '', b.object.uid ?? '') ||
        // the same object listed twice with different content (malformed input): still deterministic
        compareStrings(show(a.service), show(b.service)),
    );
    const [winner, ...losers] = list;
    if (winner === undefined) continue;
    services.push(winner.service);
    for (const l of losers) {
      if (l.object.namespace === winner.object.namespace && l.object.name === winner.object.name && l.object.uid === winner.object.uid) continue;
      refusals.push({
        object: l.object,
        reason: 'VipPortConflict',
        message: `${k} is already served for the older Service ${winner.object.namespace}/${winner.object.name}; choose another VIP or port`,
      });
    }
  }
  services.sort((a, b) => compareStrings(serviceKeyString(a.key), serviceKeyString(b.key)));

  return { services, refusals };
}
