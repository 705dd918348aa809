// A Service read into what the resolver intercepts: its ClusterIPs, external addresses
// (externalIPs, load-balancer ingress IPs), ports and policies. Never throws; what cannot be
// read is skipped, with a refusal when the object asks for something we cannot honour.
import { asArray, asPort, asRecord, asString, prop, show } from '@balanced/k8s';
import type { Protocol, ResolverRefusal } from '../model.js';
import { canonicalIp, IP_FAMILIES, type CanonicalIp, type IpFamily } from './address.js';
import { objectIdentity, type ObjectIdentity } from './object-ref.js';

export interface ServicePortView {
  /** '' when unnamed. */
  readonly name: string;
  readonly protocol: Protocol;
  readonly port: number;
  /** Only for type NodePort / LoadBalancer. */
  readonly nodePort: number | undefined;
}

export interface ServiceView {
  readonly identity: ObjectIdentity;
  /** Families of the ClusterIPs, in IPv4, IPv6 order: the only families the Service is resolved for. */
  readonly families: readonly IpFamily[];
  readonly clusterIps: readonly CanonicalIp[];
  /** externalIPs and status.loadBalancer.ingress[].ip. */
  readonly externalIps: readonly CanonicalIp[];
  readonly ports: readonly ServicePortView[];
  /** internalTrafficPolicy: Local. */
  readonly internalLocal: boolean;
  /** sessionAffinity: ClientIP → seconds; undefined = no affinity. */
  readonly affinityTimeoutSeconds: number | undefined;
}

/** sessionAffinityConfig.clientIP.timeoutSeconds: API default and valid range. */
export const DEFAULT_AFFINITY_TIMEOUT_SECONDS = 10800;
export const MAX_AFFINITY_TIMEOUT_SECONDS = 86400;

export interface ServiceRead {
  /** Undefined: nothing to resolve (ExternalName, headless, no ClusterIP yet, no selector and no slice, unreadable). */
  readonly view: ServiceView | undefined;
  readonly refusals: readonly ResolverRefusal[];
}

/**
 * Reads one Service. `hasSlices`: some EndpointSlice names it (a selector-less Service is
 * resolved only then: its slices are managed by hand).
 */
export function readService(raw: unknown, hasSlices: boolean): ServiceRead {
  const identity = objectIdentity(raw);
  const object = { kind: 'Service', namespace: identity.namespace, name: identity.name };
  const refusals: ResolverRefusal[] = [];
  const refuse = (reason: string, message: string): void => {
    refusals.push({ object, reason, message });
  };
  const none: ServiceRead = { view: undefined, refusals };
  if (identity.namespace === '' || identity.name === '') {
    refuse('InvalidObject', 'the Service has no metadata.name or metadata.namespace; it is not resolved');
    return none;
  }
  const spec = prop(raw, 'spec');
  const type = prop(spec, 'type');
  if (type === 'ExternalName') return none;
  const selector = asRecord(prop(spec, 'selector'));
  if ((selector === undefined || Object.keys(selector).length === 0) && !hasSlices) return none;

  // ClusterIPs (spec.clusterIPs, else spec.clusterIP): "None" = headless.
  const listed = asArray(prop(spec, 'clusterIPs'));
  const texts = listed.length > 0 ? listed : [prop(spec, 'clusterIP')];
  if (texts.includes('None') || prop(spec, 'clusterIP') === 'None') return none;
  const clusterIps: CanonicalIp[] = [];
  for (const text of texts) {
    if (text === undefined || text === null || text === '') continue; // not allocated yet
    const ip = canonicalIp(text);
    if (ip === undefined) refuse('InvalidClusterIP', `ClusterIP ${show(text)} is not an IP address; it was skipped`);
    else if (!clusterIps.some((c) => c.text === ip.text)) clusterIps.push(ip);
  }
  if (clusterIps.length === 0) return none;
  const families = IP_FAMILIES.filter((f) => clusterIps.some((c) => c.family === f));

  const externalIps: CanonicalIp[] = [];
  const addExternal = (text: unknown, field: string): void => {
    const ip = canonicalIp(text);
    if (ip === undefined) refuse('InvalidExternalAddress', `${field} ${show(text)} is not an IP address; it was skipped`);
    else if (!families.includes(ip.family)) {
      refuse('AddressFamilyNotServed', `${field} ${ip.text} is ${ip.family} but the Service has no ${ip.family} ClusterIP; it was skipped`);
    } else if (!externalIps.some((c) => c.text === ip.text)) externalIps.push(ip);
  };
  for (const text of asArray(prop(spec, 'externalIPs'))) addExternal(text, 'externalIP');
  for (const ingress of asArray(prop(prop(prop(raw, 'status'), 'loadBalancer'), 'ingress'))) {
    const ip = prop(ingress, 'ip');
    if (ip === undefined || ip === null || ip === '') continue; // hostname-only ingress
    // ipMode Proxy: the load balancer proxies, so traffic to its IP must reach it (KEP-1860).
    if (prop(ingress, 'ipMode') === 'Proxy') continue;
    addExternal(ip, 'load-balancer ingress IP');
  }

  const withNodePorts = type === 'NodePort' || type === 'LoadBalancer';
  const ports = readPorts(asArray(prop(spec, 'ports')), withNodePorts, refuse);
  const internalLocal = prop(spec, 'internalTrafficPolicy') === 'Local';
  const affinityTimeoutSeconds = readAffinity(spec, refuse);
  return {
    view: { identity, families, clusterIps, externalIps, ports, internalLocal, affinityTimeoutSeconds },
    refusals,
  };
}

function readPorts(raw: readonly unknown[], withNodePorts: boolean, refuse: (reason: string, message: string) => void): ServicePortView[] {
  const ports: ServicePortView[] = [];
  for (const [i, p] of raw.entries()) {
    const protocol = prop(p, 'protocol') ?? 'TCP';
    if (protocol === 'SCTP') continue; // valid, but not resolved at the socket layer
    const port = asPort(prop(p, 'port'));
    if ((protocol !== 'TCP' && protocol !== 'UDP') || port === undefined) {
      refuse('InvalidServicePort', `spec.ports[${i}] ${show(p)} needs protocol TCP or UDP and a port 1..65535; it was skipped`);
      continue;
    }
    const name = asString(prop(p, 'name')) ?? '';
    if (ports.some((q) => q.protocol === protocol && (q.port === port || (name !== '' && q.name === name) || portToken(q) === portToken({ name, port })))) {
      refuse('InvalidServicePort', `spec.ports[${i}] repeats the name or number of an earlier ${protocol} port; it was skipped`);
      continue;
    }
    ports.push({ name, protocol, port, nodePort: withNodePorts ? asPort(prop(p, 'nodePort')) : undefined });
  }
  return ports;
}

/** The port in a service key: its name, or its number when unnamed. */
export function portToken(port: { readonly name: string; readonly port: number }): string {
  return port.name === '' ? String(port.port) : port.name;
}

/**
 * sessionAffinity: ClientIP → the timeout. The API validates 1..86400, so anything else comes
 * from a malformed cache: a number out of range is clamped into it and a non-number takes the
 * default (10800); both with a refusal. Affinity is kept either way: losing it silently would
 * break clients that rely on it, and refusing the whole Service would break every client.
 */
function readAffinity(spec: unknown, refuse: (reason: string, message: string) => void): number | undefined {
  const affinity = prop(spec, 'sessionAffinity');
  if (affinity === undefined || affinity === null || affinity === 'None') return undefined;
  if (affinity !== 'ClientIP') {
    refuse('InvalidSessionAffinity', `sessionAffinity ${show(affinity)} is neither None nor ClientIP; resolved without affinity`);
    return undefined;
  }
  const raw = prop(prop(prop(spec, 'sessionAffinityConfig'), 'clientIP'), 'timeoutSeconds');
  if (raw === undefined || raw === null) return DEFAULT_AFFINITY_TIMEOUT_SECONDS;
  if (typeof raw !== 'number' || Number.isNaN(raw)) {
    refuse('InvalidSessionAffinity', `sessionAffinityConfig.clientIP.timeoutSeconds ${show(raw)} is not a number; used ${DEFAULT_AFFINITY_TIMEOUT_SECONDS}`);
    return DEFAULT_AFFINITY_TIMEOUT_SECONDS;
  }
  const clamped = Math.min(MAX_AFFINITY_TIMEOUT_SECONDS, Math.max(1, Math.floor(raw)));
  if (clamped !== raw) {
    refuse('InvalidSessionAffinity', `sessionAffinityConfig.clientIP.timeoutSeconds ${show(raw)} is outside 1..${MAX_AFFINITY_TIMEOUT_SECONDS}; used ${clamped}`);
  }
  return clamped;
}
