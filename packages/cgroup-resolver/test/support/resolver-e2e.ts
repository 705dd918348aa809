// Objects and probes for the resolver's end-to-end tests: Services, EndpointSlices and Nodes
// as an API server holds them, and a view of what the pinned maps resolve a frontend to.
import { ResolverMaps } from '../../src/maps/resolver-maps.js';

export const NODE = 'node-a';
export const OTHER_NODE = 'node-b';
export const NAMESPACE = 'shop';
export const TARGET_PORT = 8080;

/** Backends: identity servers on these addresses (inside the test netns). */
export const BACKENDS = {
  a1: { address: '10.244.1.1', node: NODE },
  a2: { address: '10.244.1.2', node: NODE },
  a3: { address: '10.244.1.3', node: NODE },
  a4: { address: '10.244.1.4', node: NODE },
  b1: { address: '10.244.2.1', node: OTHER_NODE },
  b2: { address: '10.244.2.2', node: OTHER_NODE },
  v61: { address: 'fd00:244::1', node: NODE },
  v62: { address: 'fd00:244::2', node: OTHER_NODE },
} as const;
export type BackendName = keyof typeof BACKENDS;

/** This node's InternalIP (NodePorts are resolved on it), local in the test netns. */
export const NODE_IP = '10.250.0.1';

export interface ServiceSpec {
  readonly name: string;
  readonly clusterIPs: readonly string[];
  readonly type?: 'ClusterIP' | 'NodePort' | 'LoadBalancer';
  readonly ingress?: readonly string[];
  readonly nodePort?: number;
  readonly affinitySeconds?: number;
  readonly internalTrafficPolicy?: 'Local' | 'Cluster';
  readonly externalTrafficPolicy?: 'Local' | 'Cluster';
}

export function service(s: ServiceSpec): object {
  const families = s.clusterIPs.map((ip) => (ip.includes(':') ? 'IPv6' : 'IPv4'));
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: s.name, namespace: NAMESPACE },
    spec: {
      type: s.type ?? 'ClusterIP',
      selector: { app: s.name },
      clusterIP: s.clusterIPs[0],
      clusterIPs: s.clusterIPs,
      ipFamilies: families,
      ports: [
        { name: 'http', protocol: 'TCP', port: 80, targetPort: 'http', ...(s.nodePort !== undefined ? { nodePort: s.nodePort } : {}) },
        { name: 'dns', protocol: 'UDP', port: 53, targetPort: 'dns' },
      ],
      ...(s.affinitySeconds !== undefined ? { sessionAffinity: 'ClientIP', sessionAffinityConfig: { clientIP: { timeoutSeconds: s.affinitySeconds } } } : {}),
      ...(s.internalTrafficPolicy ? { internalTrafficPolicy: s.internalTrafficPolicy } : {}),
      ...(s.externalTrafficPolicy ? { externalTrafficPolicy: s.externalTrafficPolicy } : {}),
    },
    status: { loadBalancer: { ingress: (s.ingress ?? []).map((ip) => ({ ip })) } },
  };
}

export type EndpointState = 'ready' | 'not-ready' | 'terminating';

/** One EndpointSlice of `serviceName` (named `<service>-<family>`) with the given backends. */
export function slice(serviceName: string, endpoints: readonly (BackendName | [BackendName, EndpointState])[], family: 'IPv4' | 'IPv6' = 'IPv4'): object {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name: `${serviceName}-${family.toLowerCase()}`, namespace: NAMESPACE, labels: { 'kubernetes.io/service-name': serviceName } },
    addressType: family,
    ports: [
      { name: 'http', protocol: 'TCP', port: TARGET_PORT },
      { name: 'dns', protocol: 'UDP', port: TARGET_PORT },
    ],
    endpoints: endpoints.map((e) => {
      const [name, state] = Array.isArray(e) ? e : [e, 'ready' as const];
      const b = BACKENDS[name];
      return {
        addresses: [b.address],
        nodeName: b.node,
        conditions: { ready: state === 'ready', serving: state !== 'not-ready', terminating: state === 'terminating' },
      };
    }),
  };
}

export function node(name: string, internalIp: string): object {
  return { apiVersion: 'v1', kind: 'Node', metadata: { name }, status: { addresses: [{ type: 'InternalIP', address: internalIp }, { type: 'Hostname', address: name }] } };
}

/** Backend names by address (the identity servers answer with the name). */
export const NAME_BY_ADDRESS: ReadonlyMap<string, BackendName> = new Map(Object.entries(BACKENDS).map(([n, b]) => [b.address, n as BackendName]));

/**
 * The backends (names) the pinned maps resolve `address:port/protocol` (Service kind) to
 * right now: weight-bearing entries of its table; undefined when there is no such frontend.
 */
export function resolvedBackends(pinRoot: string, address: string, port: number, protocol: 'TCP' | 'UDP' = 'TCP'): string[] | undefined {
  const maps = ResolverMaps.open(pinRoot);
  try {
    const dump = maps.dump();
    const f = dump.frontends.find((e) => e.address === address && e.port === port && e.protocol === protocol && e.kind === 'service');
    if (f === undefined) return undefined;
    const table = dump.services.get(f.serviceId);
    if (table === undefined) return undefined;
    const used = new Set(table.slots);
    return table.backendIds
      .filter((_, i) => used.has(i))
      .map((id) => dump.backends.get(id))
      .map((b) => (b === undefined ? '?' : (NAME_BY_ADDRESS.get(b.address) ?? b.address)))
      .sort();
  } finally {
    maps.close();
  }
}

export async function eventually<T>(what: string, probe: () => T | Promise<T>, ok: (v: T) => boolean, timeoutMs = 20_000, everyMs = 5): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last = await probe();
  while (!ok(last)) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last: ${JSON.stringify(last)}`);
    await new Promise((r) => setTimeout(r, everyMs));
    last = await probe();
  }
  return last;
}

/** Shares of each name in `counts` (0 for names not present). */
export function sharesOf(counts: Record<string, number>, names: readonly string[]): Record<string, number> {
  const total = Object.values(counts).reduce((a, b) => a + b, 0);
  return Object.fromEntries(names.map((n) => [n, total === 0 ? 0 : (counts[n] ?? 0) / total]));
}
