// What one Service asks the resolver for, before conflicts with other Services are settled:
// per port and family, the frontends it owns and the backend sets they resolve to.
import type { DesiredBackend, DesiredFrontend, DesiredService, ResolverRefusal } from '../model.js';
import { compareFrontends, frontendKey } from '../plan/keys.js';
import { loopback, type CanonicalIp, type IpFamily } from './address.js';
import type { SliceView } from './endpoint-slices.js';
import { selectEndpoints } from './endpoint-selection.js';
import { objectIdentity, type ObjectIdentity } from './object-ref.js';
import { portToken, readService, type ServicePortView, type ServiceView } from './service-read.js';
import { serviceSetKey, type BackendSetKind } from './service-keys.js';

/** Where this resolver runs. */
export interface NodeContext {
  /** Undefined outside the cluster: no endpoint is local, no NodePort frontend. */
  readonly nodeName: string | undefined;
  /** This node's InternalIP/ExternalIP addresses (nodeAddresses()). */
  readonly addresses: readonly CanonicalIp[];
}

export interface ServiceCandidates {
  readonly owner: ObjectIdentity;
  /** By key, in key order. */
  readonly services: ReadonlyMap<string, DesiredService>;
  /** In canonical order; at most one per (address, port, protocol, kind). */
  readonly frontends: readonly DesiredFrontend[];
  readonly refusals: readonly ResolverRefusal[];
}

/**
 * One Service's frontends and backend sets (pure; `slices`: the EndpointSlices that name it,
 * undefined when none does).
 *
 * - ClusterIPs resolve to the Service's endpoints of their family, or, under
 *   internalTrafficPolicy: Local, to this node's only (none → empty: refused, no fallback).
 * - externalIPs, load-balancer ingress IPs and NodePorts on this node's addresses (and
 *   loopback) resolve to every endpoint: externalTrafficPolicy only concerns traffic that
 *   arrives from outside, and a client on this node is not outside.
 * - The two sets are one service when internalTrafficPolicy is Cluster (they are then equal);
 *   under Local they stay two, even when every endpoint happens to be local, so that endpoints
 *   moving between nodes never re-key (and re-number) a set.
 */
export function serviceCandidates(service: unknown, slices: readonly SliceView[] | undefined, node: NodeContext): ServiceCandidates {
  const read = readService(service, slices !== undefined);
  const refusals = read.refusals as ResolverRefusal[]; // readService's own array: ours to extend
  const view = read.view;
  const owner = view?.identity ?? objectIdentity(service);
  if (view === undefined) return { owner, services: new Map(), frontends: [], refusals };

  const out: Building = { view, slices: slices ?? NO_SLICES, nodeName: node.nodeName, sets: new Map(), frontends: [], seen: undefined, refusals };
  for (const port of view.ports) {
    for (const family of view.families) {
      const clusterSet: BackendSetKind = view.internalLocal ? 'node-local' : 'all';
      for (const ip of view.clusterIps) if (ip.family === family) addFrontend(out, ip.text, port.port, port, ensureSet(out, port, family, clusterSet));
      // externalIPs and ingress IPs on the service port; NodePort on this node's addresses and loopback (in-cluster only)
      for (const ip of view.externalIps) if (ip.family === family) addFrontend(out, ip.text, port.port, port, ensureSet(out, port, family, 'all'));
      if (node.nodeName !== undefined && port.nodePort !== undefined) {
        for (const ip of node.addresses) if (ip.family === family) addFrontend(out, ip.text, port.nodePort, port, ensureSet(out, port, family, 'all'));
        addFrontend(out, loopback(family), port.nodePort, port, ensureSet(out, port, family, 'all'));
      }
    }
  }
  const list = out.frontends.sort(compareFrontends);
  return { owner, services: usedSets(out.sets, list), frontends: list, refusals };
}

const NO_SLICES: readonly SliceView[] = Object.freeze([]);

/** A Service's candidates while they are read. */
interface Building {
  readonly view: ServiceView;
  readonly slices: readonly SliceView[];
  readonly nodeName: string | undefined;
  readonly sets: Map<string, DesiredService>;
  readonly frontends: DesiredFrontend[];
  /** frontendKey of every frontend, once there are too many to compare one by one. */
  seen: Set<string> | undefined;
  readonly refusals: ResolverRefusal[];
}

/** Above this many frontends, repeats are found by key (a Service has a few: ports x addresses). */
const LINEAR_FRONTENDS = 16;

/** The key of a backend set of the Service, the set read from the slices the first time. */
function ensureSet(b: Building, port: ServicePortView, family: IpFamily, set: BackendSetKind): string {
  const { view } = b;
  const key = serviceSetKey(view.identity.namespace, view.identity.name, portToken(port), port.protocol, family, set);
  if (b.sets.has(key)) return key;
  const selection = selectEndpoints(b.slices, { family, portName: port.name, protocol: port.protocol, nodeName: b.nodeName, localOnly: set === 'node-local' });
  if (selection.dropped > 0) {
    b.refusals.push({
      object: { kind: 'Service', namespace: view.identity.namespace, name: view.identity.name },
      reason: 'TooManyEndpoints',
      message: `${key} has more endpoints than one table holds; ${selection.dropped} were left out`,
    });
  }
  b.sets.set(key, desiredService(key, selection.backends, view, set === 'node-local'));
  return key;
}

/** One frontend of the Service (within one Service, the first claim on an address:port wins). */
function addFrontend(b: Building, address: string, portNumber: number, port: ServicePortView, key: string): void {
  const f: DesiredFrontend = { address, port: portNumber, protocol: port.protocol, kind: 'service', service: key };
  const list = b.frontends;
  if (b.seen === undefined) {
    for (const g of list) if (g.address === address && g.port === portNumber && g.protocol === f.protocol) return; // (kind: 'service' all)
    list.push(f);
    if (list.length > LINEAR_FRONTENDS) b.seen = new Set(list.map(frontendKey));
    return;
  }
  const id = frontendKey(f);
  if (b.seen.has(id)) return;
  b.seen.add(id);
  list.push(f);
}

/** The sets some frontend resolves to, in key order (the very map when that is all of them, in order). */
function usedSets(sets: Map<string, DesiredService>, frontends: readonly DesiredFrontend[]): ReadonlyMap<string, DesiredService> {
  const used = new Set<string>();
  for (const f of frontends) used.add(f.service);
  let last: string | undefined;
  let inOrder = used.size === sets.size;
  for (const key of sets.keys()) {
    if (!inOrder) break;
    inOrder = used.has(key) && (last === undefined || last < key);
    last = key;
  }
  if (inOrder) return sets;
  return new Map([...sets].filter(([key]) => used.has(key)).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

function desiredService(key: string, backends: readonly DesiredBackend[], view: ServiceView, localOnly: boolean): DesiredService {
  const seconds = view.affinityTimeoutSeconds;
  return { key, backends, options: seconds === undefined ? { refuseWhenEmpty: true, localOnly } : { affinityTimeoutSeconds: seconds, refuseWhenEmpty: true, localOnly } };
}
