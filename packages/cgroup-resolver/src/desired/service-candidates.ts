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
  const refusals = [...read.refusals];
  const view = read.view;
  const owner = view?.identity ?? objectIdentity(service);
  if (view === undefined) return { owner, services: new Map(), frontends: [], refusals };

  const frontends = new Map<string, DesiredFrontend>();
  const sets = new Map<string, DesiredService>();
  const object = { kind: 'Service', namespace: view.identity.namespace, name: view.identity.name };
  for (const port of view.ports) {
    for (const family of view.families) {
      const ensure = (set: BackendSetKind): string => {
        const key = serviceSetKey(view.identity.namespace, view.identity.name, portToken(port), port.protocol, family, set);
        if (!sets.has(key)) {
          const selection = selectEndpoints(slices ?? [], {
            family,
            portName: port.name,
            protocol: port.protocol,
            nodeName: node.nodeName,
            localOnly: set === 'node-local',
          });
          if (selection.dropped > 0) {
            refusals.push({
              object,
              reason: 'TooManyEndpoints',
              message: `${key} has more endpoints than one table holds; ${selection.dropped} were left out`,
            });
          }
          sets.set(key, desiredService(key, selection.backends, view, set === 'node-local'));
        }
        return key;
      };
      const add = (address: string, portNumber: number, key: string): void => {
        const f: DesiredFrontend = { address, port: portNumber, protocol: port.protocol, kind: 'service', service: key };
        const id = frontendKey(f);
        if (!frontends.has(id)) frontends.set(id, f); // (within one Service, the first claim wins)
      };
      const cluster = view.clusterIps.filter((ip) => ip.family === family);
      const external = externalAddresses(view, port, family, node);
      const clusterSet: BackendSetKind = view.internalLocal ? 'node-local' : 'all';
      for (const ip of cluster) add(ip.text, port.port, ensure(clusterSet));
      for (const [address, portNumber] of external) add(address, portNumber, ensure('all'));
    }
  }
  const list = [...frontends.values()].sort(compareFrontends);
  const used = new Set(list.map((f) => f.service));
  const services = new Map([...sets].filter(([key]) => used.has(key)).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  return { owner, services, frontends: list, refusals };
}

/** externalIPs and ingress IPs on the service port; NodePort on this node's addresses and loopback (in-cluster only). */
function externalAddresses(view: ServiceView, port: ServicePortView, family: IpFamily, node: NodeContext): [string, number][] {
  const out: [string, number][] = view.externalIps.filter((ip) => ip.family === family).map((ip) => [ip.text, port.port]);
  if (node.nodeName !== undefined && port.nodePort !== undefined) {
    for (const ip of node.addresses) if (ip.family === family) out.push([ip.text, port.nodePort]);
    out.push([loopback(family), port.nodePort]);
  }
  return out;
}

function desiredService(key: string, backends: readonly DesiredBackend[], view: ServiceView, localOnly: boolean): DesiredService {
  return {
    key,
    backends,
    options: {
      ...(view.affinityTimeoutSeconds === undefined ? {} : { affinityTimeoutSeconds: view.affinityTimeoutSeconds }),
      refuseWhenEmpty: true,
      localOnly,
    },
  };
}
