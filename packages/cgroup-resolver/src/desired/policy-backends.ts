// The backends of one policy frontend port, for one address family:
// - LocalRedirectPolicy: the chosen node-local pods' IPs : the backend port;
// - BalancingPolicy serviceEndpoint: ready pods anywhere, as pod IP : backend port
//   (podEndpoint), node address (status.hostIP) : the container's hostPort for the backend port
//   (hostPort), or the node's proxy address (annotation balanced.dev/node-proxy-ip) : backend
//   port (nodeProxy);
// - BalancingPolicy addressEndpoint: the fixed addresses : backend port.
// Sorted by address then port, one backend per address:port (local when any of its pods is on
// this node), weight 1, at most SERVICE_MAX_BACKENDS.
import type { BalancingBackend, RedirectMode } from '@balanced/policies';
import type { DesiredBackend, Protocol } from '../model.js';
import { SERVICE_MAX_BACKENDS } from '../maps/layout.js';
import { canonicalIp, type CanonicalIp, type IpFamily } from './address.js';
import { compareText } from './object-ref.js';
import type { PolicyNodeContext } from './policy-nodes.js';
import type { PodView } from './policy-pods.js';

export interface BackendQuery {
  readonly family: IpFamily;
  readonly port: number;
  readonly protocol: Protocol;
  /** This node (undefined out of cluster: nothing is local). */
  readonly nodeName: string | undefined;
}

export interface PolicyBackends {
  readonly backends: readonly DesiredBackend[];
  /** Left out because one table holds at most SERVICE_MAX_BACKENDS. */
  readonly dropped: number;
  /** Ready pods that cannot be sent to whatever the family: no hostPort for the port, no node-proxy address on their node. */
  readonly unreachable: number;
}

/** Pods' own addresses (a LocalRedirectPolicy's chosen pods, a podEndpoint BalancingPolicy's ready pods). */
export function podEndpointBackends(pods: readonly PodView[], query: BackendQuery): PolicyBackends {
  const set = new BackendSet();
  for (const pod of pods) {
    for (const ip of pod.ips) if (ip.family === query.family) set.add(ip.text, query.port, isLocal(pod, query));
  }
  return set.done(0);
}

/** A serviceEndpoint BalancingPolicy in hostPort or nodeProxy mode. */
export function nodeBackends(mode: Exclude<RedirectMode, 'podEndpoint'>, pods: readonly PodView[], query: BackendQuery, node: PolicyNodeContext): PolicyBackends {
  const set = new BackendSet();
  let unreachable = 0;
  for (const pod of pods) {
    if (mode === 'hostPort') {
      const published = pod.ports.find((p) => p.containerPort === query.port && p.protocol === query.protocol && p.hostPort !== undefined);
      if (published?.hostPort === undefined) unreachable++;
      else for (const ip of pod.hostIps) if (ip.family === query.family) set.add(ip.text, published.hostPort, isLocal(pod, query));
    } else {
      const proxies: readonly CanonicalIp[] = pod.nodeName === undefined ? [] : (node.proxyIps.get(pod.nodeName) ?? []);
      if (proxies.length === 0) unreachable++;
      for (const ip of proxies) if (ip.family === query.family) set.add(ip.text, query.port, isLocal(pod, query));
    }
  }
  return set.done(unreachable);
}

/** An addressEndpoint BalancingPolicy: its addresses of the family. */
export function addressBackends(backend: BalancingBackend & { type: 'addressEndpoint' }, query: BackendQuery): PolicyBackends {
  const set = new BackendSet();
  for (const text of backend.addresses) {
    const ip = canonicalIp(text);
    if (ip !== undefined && ip.family === query.family) set.add(ip.text, query.port, false);
  }
  return set.done(0);
}

function isLocal(pod: PodView, query: BackendQuery): boolean {
  return query.nodeName !== undefined && pod.nodeName === query.nodeName;
}

class BackendSet {
  private readonly byKey = new Map<string, { address: string; port: number; local: boolean }>();

  get size(): number {
    return this.byKey.size;
  }

  add(address: string, port: number, local: boolean): void {
    const key = `${address} ${port}`;
    const had = this.byKey.get(key);
    if (had === undefined) this.byKey.set(key, { address, port, local });
    else had.local ||= local;
  }

  done(unreachable: number): PolicyBackends {
    const all = [...this.byKey.values()].sort((a, b) => compareText(a.address, b.address) || a.port - b.port);
    const kept = all.slice(0, SERVICE_MAX_BACKENDS);
    return {
      backends: kept.map((b): DesiredBackend => ({ address: b.address, port: b.port, weight: 1, local: b.local })),
      dropped: all.length - kept.length,
      unreachable,
    };
  }
}
