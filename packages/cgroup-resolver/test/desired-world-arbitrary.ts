// Generated clusters for the resolver's property tests: Services, EndpointSlices and Nodes from
// a small universe (so objects collide: shared names, shared ClusterIPs, shared endpoints,
// dual-stack, ports that do and do not match), optionally corrupted (any field may be anything).
import fc from 'fast-check';
import type { V1EndpointSlice, V1Node, V1Service } from '@kubernetes/client-node';
import type { ResolverInput } from '../src/desired/index.js';

const NAMESPACES = ['a', 'a', 'a', 'b'];
const SERVICE_NAMES = ['s1', 's2', 's3'];
const CLUSTER_IPS = ['10.96.0.1', '10.96.0.1', '10.96.0.2', '10.96.0.2', '10.96.0.3', 'fd00::1', 'FD00::2', 'None', '', '10.96.0.01', '::ffff:10.96.0.9'];
const EXTERNAL_IPS = ['198.51.100.1', '198.51.100.2', '2001:db8::1', 'not-an-ip', '192.168.0.1'];
const ENDPOINT_IPS = ['10.0.0.1', '10.0.0.2', '10.0.0.3', 'fd00::a', 'FD00::B', 'fd00::0:a', 'garbage'];
const NODE_NAMES = ['n1', 'n2'];
const NODE_ADDRESSES = ['192.168.0.1', '192.168.0.2', 'fd01::1', '203.0.113.1'];
const PORT_NAMES = ['http', '', 'dns'];
const PROTOCOLS = ['TCP', 'UDP', 'SCTP', 'tcp'];
const PORTS = [80, 53, 443, 0, 70000];
const TARGET_PORTS = [53, 8080, 8443, 9090];
const NODE_PORTS = [30080, 30081];
const TIMESTAMPS = ['2024-01-01T00:00:00Z', '2025-01-01T00:00:00Z', 'yesterday'];

type Arb<T> = fc.Arbitrary<T>;

/** JSON values an API server (or a broken cache) might hold, plus a few JavaScript oddities. */
export const junk: Arb<unknown> = fc.anything({ withBoxedValues: true, withDate: true, withBigInt: true, withSparseArray: true, withMap: true, withNullPrototype: true, maxDepth: 2 });

/**
 * A cluster as the builder receives it; corrupt: any field may be replaced by `junkValue`
 * (default {@link junk}; fc.jsonValue() for what an API server can actually send).
 */
export function worldArb(corrupt: boolean, junkValue: Arb<unknown> = junk): Arb<ResolverInput> {
  const m = <T>(a: Arb<T>): Arb<unknown> => (corrupt ? fc.oneof({ arbitrary: a as Arb<unknown>, weight: 8 }, { arbitrary: junkValue, weight: 1 }) : a);
  const opt = <T>(a: Arb<T>): Arb<unknown> => fc.option(m(a), { nil: undefined, freq: 3 });
  const pick = <T>(xs: readonly T[]): Arb<unknown> => m(fc.constantFrom(...xs));
  /** Half the time the first (well-formed, matching) value, so that objects line up often. */
  const usual = <T>(xs: readonly T[]): Arb<unknown> => m(fc.oneof(fc.constant(xs[0] as T), fc.constantFrom(...xs)));

  const servicePort = fc.record(
    { name: usual(PORT_NAMES), port: usual(PORTS), protocol: usual(PROTOCOLS), nodePort: pick(NODE_PORTS) },
    { requiredKeys: ['port', 'name'] },
  );
  const service = fc.record({
    metadata: m(fc.record({ namespace: usual(NAMESPACES), name: pick(SERVICE_NAMES), creationTimestamp: pick(TIMESTAMPS) }, { requiredKeys: ['namespace', 'name'] })),
    spec: m(
      fc.record(
        {
          type: usual(['ClusterIP', 'NodePort', 'LoadBalancer', 'ExternalName']),
          selector: m(fc.constantFrom({ app: 'x' }, { app: 'x' }, {})),
          clusterIP: usual(CLUSTER_IPS),
          clusterIPs: m(fc.oneof(fc.array(pick(CLUSTER_IPS), { maxLength: 2 }), fc.constant(['10.96.0.1', 'fd00::1']))),
          externalIPs: m(fc.array(pick(EXTERNAL_IPS), { maxLength: 2 })),
          ports: m(fc.array(m(servicePort), { maxLength: 3 })),
          internalTrafficPolicy: pick(['Cluster', 'Local']),
          externalTrafficPolicy: pick(['Cluster', 'Local']),
          sessionAffinity: pick(['None', 'ClientIP', 'ClientIP', 'Sticky']),
          sessionAffinityConfig: m(fc.record({ clientIP: m(fc.record({ timeoutSeconds: pick([1, 60, 10800, 0, 86401, 2.5]) })) })),
        },
        { requiredKeys: ['clusterIP', 'ports', 'selector'] },
      ),
    ),
    status: opt(
      fc.record({
        loadBalancer: m(fc.record({ ingress: m(fc.array(m(fc.record({ ip: pick(EXTERNAL_IPS), ipMode: pick(['VIP', 'Proxy']) }, { requiredKeys: ['ip'] })), { maxLength: 2 })) })),
      }),
    ),
  });

  const endpoint = fc.record(
    {
      addresses: m(fc.array(usual(ENDPOINT_IPS), { minLength: 1, maxLength: 2 })),
      conditions: m(fc.record({ ready: m(fc.boolean()), serving: m(fc.boolean()), terminating: m(fc.boolean()) }, { requiredKeys: [] })),
      nodeName: pick(NODE_NAMES),
    },
    { requiredKeys: ['addresses'] },
  );
  const slice = fc.record({
    metadata: m(
      fc.record({
        namespace: usual(NAMESPACES),
        name: pick(['e1', 'e2', 'e3', 'e4']),
        labels: m(fc.record({ 'kubernetes.io/service-name': pick(SERVICE_NAMES) })),
      }),
    ),
    addressType: usual(['IPv4', 'IPv6', 'FQDN']),
    ports: m(fc.array(m(fc.record({ name: usual(PORT_NAMES), port: pick(TARGET_PORTS), protocol: usual(PROTOCOLS) }, { requiredKeys: ['port', 'name'] })), { minLength: 1, maxLength: 3 })),
    endpoints: m(fc.array(m(endpoint), { minLength: 1, maxLength: 4 })),
  });
  const node = fc.record({
    metadata: m(fc.record({ name: pick(NODE_NAMES) })),
    status: m(fc.record({ addresses: m(fc.array(m(fc.record({ type: pick(['InternalIP', 'ExternalIP', 'Hostname']), address: pick(NODE_ADDRESSES) })), { maxLength: 3 })) })),
  });

  /** A slice made for a generated Service (its namespace, name and port names), so that slices and Services meet often. */
  const sliceFor = (svc: unknown): Arb<unknown> => {
    const text = (v: unknown, fallback: string): string => (typeof v === 'string' ? v : fallback);
    const rec = (v: unknown): Record<string, unknown> => (typeof v === 'object' && v !== null ? (v as Record<string, unknown>) : {});
    const md = rec(rec(svc).metadata);
    const ports = Array.isArray(rec(rec(svc).spec).ports) ? (rec(rec(svc).spec).ports as unknown[]) : [];
    return fc.record({
      metadata: m(fc.constant({ namespace: text(md.namespace, 'a'), name: 'own', labels: { 'kubernetes.io/service-name': text(md.name, 's1') } })),
      addressType: usual(['IPv4', 'IPv6', 'FQDN']),
      ports: m(fc.tuple(...Array.from(ports, (p) => fc.record({ name: fc.constant(text(rec(p).name, '')), port: pick(TARGET_PORTS), protocol: fc.constant(text(rec(p).protocol, 'TCP')) })))),
      endpoints: m(fc.array(m(endpoint), { minLength: 1, maxLength: 4 })),
    });
  };

  return fc
    .record({
      services: fc.array(m(service), { minLength: 1, maxLength: 5 }),
      endpointSlices: fc.array(m(slice), { maxLength: 4 }),
      nodes: fc.array(m(node), { maxLength: 3 }),
      nodeName: fc.option(fc.constantFrom('n1', 'n2', 'n3'), { nil: undefined, freq: 5 }),
    })
    .chain((w) =>
      fc.tuple(fc.constant(w), fc.tuple(...w.services.map((svc) => fc.array(sliceFor(svc), { maxLength: 2 })))),
    )
    .map(([w, own]): ResolverInput => ({
      services: w.services as V1Service[],
      endpointSlices: [...w.endpointSlices, ...own.flat()] as V1EndpointSlice[],
      nodes: w.nodes as V1Node[],
      ...(w.nodeName === undefined ? {} : { nodeName: w.nodeName }),
    }));
}
/** The same world with each list in another order. */
export function shuffled(world: ResolverInput): Arb<ResolverInput> {
  const perm = <T>(xs: readonly T[]): Arb<T[]> => fc.shuffledSubarray([...xs], { minLength: xs.length, maxLength: xs.length });
  return fc.tuple(perm(world.services), perm(world.endpointSlices), perm(world.nodes)).map(([services, endpointSlices, nodes]) => ({ ...world, services, endpointSlices, nodes }));
}
