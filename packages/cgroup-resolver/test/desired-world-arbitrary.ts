// Generated clusters for the resolver's property tests: Services, EndpointSlices and Nodes from
// a small universe (so objects collide: shared names, shared ClusterIPs, shared endpoints,
// dual-stack, ports that do and do not match), optionally corrupted (any field may be anything);
// with `policies`, also Pods, LocalRedirectPolicies and BalancingPolicies that select them and
// take over the Services' ClusterIPs (and each other's frontends), and node labels and
// node-proxy annotations for them to read.
import fc from 'fast-check';
import type { V1EndpointSlice, V1Node, V1Pod, V1Service } from '@kubernetes/client-node';
import type { PodCgroups, ResolverInput } from '../src/desired/index.js';

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
const POD_NAMES = ['p1', 'p2', 'p3', 'p4', 'p5', 'p6'];
const POD_UIDS = ['u1', 'u2', 'u3', 'u4', 'u5', 'u6', 'u7'];
const POD_IPS = ['10.0.0.1', '10.0.0.2', '10.0.1.1', 'fd00::a', 'fd00::c', 'garbage'];
const HOST_IPS = ['192.168.0.1', '192.168.0.2', 'fd01::1'];
const APPS = ['x', 'y'];
const POLICY_NAMES = ['lrp1', 'lrp2', 'bp1', 'bp2'];
const POLICY_IPS = ['10.96.0.1', '10.96.0.2', 'fd00::1', '169.254.20.10', '10.96.0.01'];
const POLICY_PORTS = [
  { name: 'dns', port: 53, protocol: 'UDP' },
  { name: 'dns-tcp', port: 53, protocol: 'TCP' },
  { name: 'http', port: 80, protocol: 'TCP' },
];
const BACKEND_PORTS = [53, 80, 8053, 8080];
/** Ports pods usually declare (with host ports for the hostPort mode). */
const CONTAINER_PORTS = [
  { containerPort: 53, hostPort: 53, protocol: 'UDP' },
  { containerPort: 53, hostPort: 53, protocol: 'TCP' },
  { containerPort: 80, hostPort: 8080, protocol: 'TCP' },
  { containerPort: 8053, protocol: 'UDP' },
];
const PROXY_IPS = ['192.168.9.1', 'fd09::1, 192.168.9.2', 'not-an-ip'];

/**
 * The pod-level cgroups of the generated pods, by UID: one each, two for u3 (so that four pods
 * can overflow a skip list), none known for u6 and u7.
 */
export const TEST_POD_CGROUPS: PodCgroups = (uid) =>
  ({ u1: [101n], u2: [102n], u3: [103n, 113n], u4: [104n], u5: [105n] })[uid];

export interface WorldOptions {
  /** Also Pods and policies (default false: the Service-only worlds). */
  readonly policies?: boolean;
}

type Arb<T> = fc.Arbitrary<T>;

/** JSON values an API server (or a broken cache) might hold, plus a few JavaScript oddities. */
export const junk: Arb<unknown> = fc.anything({ withBoxedValues: true, withDate: true, withBigInt: true, withSparseArray: true, withMap: true, withNullPrototype: true, maxDepth: 2 });

/**
 * A cluster as the builder receives it; corrupt: any field may be replaced by `junkValue`
 * (default {@link junk}; fc.jsonValue() for what an API server can actually send).
 */
export function worldArb(corrupt: boolean, junkValue: Arb<unknown> = junk, options: WorldOptions = {}): Arb<ResolverInput> {
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
    metadata: m(
      fc.record(
        {
          name: pick(NODE_NAMES),
          ...(options.policies === true
            ? {
                labels: m(fc.record({ zone: pick(['z1', 'z2']), role: pick(['edge']) }, { requiredKeys: [] })),
                annotations: m(fc.record({ 'balanced.dev/node-proxy-ip': pick(PROXY_IPS), other: fc.constant('x') }, { requiredKeys: [] })),
              }
            : {}),
        },
        { requiredKeys: ['name'] },
      ),
    ),
    status: m(fc.record({ addresses: m(fc.array(m(fc.record({ type: pick(['InternalIP', 'ExternalIP', 'Hostname']), address: pick(NODE_ADDRESSES) })), { maxLength: 3 })) })),
  });

  // ---- pods and policies ----
  const selector = m(fc.record({ matchLabels: m(fc.record({ app: usual(APPS) })) }));
  const podIp = m(fc.record({ ip: usual(POD_IPS) }));
  const pod = fc.record({
    metadata: m(
      fc.record(
        {
          namespace: usual(NAMESPACES),
          name: pick(POD_NAMES),
          uid: pick(POD_UIDS),
          labels: m(fc.record({ app: usual(APPS), tier: pick(['web']) }, { requiredKeys: ['app'] })),
          deletionTimestamp: fc.option(pick(TIMESTAMPS), { nil: undefined, freq: 6 }),
        },
        { requiredKeys: ['namespace', 'name', 'uid'] },
      ),
    ),
    spec: m(
      fc.record({
        nodeName: usual(['n1', 'n1', 'n2']),
        containers: m(
          fc.array(
            m(
              fc.record({
                ports: m(
                  fc.oneof(
                    fc.subarray(CONTAINER_PORTS.map((p) => ({ ...p }))),
                    fc.array(m(fc.record({ containerPort: usual(BACKEND_PORTS), hostPort: opt(pick([53, 1053, 8053])), protocol: usual(['UDP', 'TCP', 'SCTP']) }, { requiredKeys: ['containerPort'] })), { maxLength: 2 }),
                  ),
                ),
              }),
            ),
            { minLength: 1, maxLength: 2 },
          ),
        ),
      }),
    ),
    status: m(
      fc.record(
        {
          podIP: usual(POD_IPS),
          podIPs: m(fc.array(podIp, { maxLength: 2 })),
          hostIP: usual(HOST_IPS),
          hostIPs: m(fc.array(m(fc.record({ ip: usual(HOST_IPS) })), { maxLength: 2 })),
          conditions: m(fc.array(m(fc.record({ type: usual(['Ready', 'Ready', 'ContainersReady']), status: usual(['True', 'True', 'False']) })), { minLength: 1, maxLength: 2 })),
        },
        { requiredKeys: ['podIP', 'conditions'] },
      ),
    ),
  });

  /** Frontend and backend toPorts that pair (by name, or one to one), sometimes not. */
  const portPairs = fc.uniqueArray(fc.constantFrom(...POLICY_PORTS), { minLength: 1, maxLength: 2, selector: (p) => `${p.port}/${p.protocol}` }).chain((ports) =>
    fc.record({
      frontend: m(fc.constant(ports.map((p) => ({ ...p })))),
      backend: m(fc.tuple(...ports.map((p, i) => fc.record({ port: usual(i === 0 ? [53, 8053] : [80, 8080]), protocol: fc.constant(p.protocol), name: fc.constantFrom(p.name, p.name, p.name, 'other') })))),
      unnamed: fc.boolean(),
    }),
  );
  const frontendAnd = (backend: (toPorts: unknown) => Arb<unknown>): Arb<{ frontend: unknown; backend: unknown }> =>
    fc.tuple(portPairs, fc.nat(3)).chain(([pp, which]) => {
      /** One port each side may go unnamed (a corrupted list stays as generated). */
      const strip = (list: unknown): unknown => {
        const only: unknown = Array.isArray(list) && list.length === 1 ? list[0] : undefined;
        if (!pp.unnamed || typeof only !== 'object' || only === null) return list;
        const p = only as Record<string, unknown>;
        return [{ port: p.port, protocol: p.protocol }];
      };
      const frontend =
        which === 0
          ? m(fc.record({ addressMatcher: m(fc.record({ ip: usual(POLICY_IPS), toPorts: fc.constant(strip(pp.frontend)) })) }))
          : m(
              fc.record({
                serviceMatcher: m(
                  fc.record(
                    { namespace: usual(NAMESPACES), serviceName: usual(SERVICE_NAMES), toPorts: which === 1 ? fc.constant(strip(pp.frontend)) : fc.constant(undefined) },
                    { requiredKeys: ['namespace', 'serviceName'] },
                  ),
                ),
              }),
            );
      return fc.record({ frontend, backend: backend(strip(pp.backend)) });
    });
  /** Mostly absent. */
  const rare = <T>(a: Arb<T>): Arb<unknown> => fc.oneof({ arbitrary: fc.constant(undefined), weight: 3 }, { arbitrary: m(a), weight: 1 });
  const config = rare(fc.record({ nodeLabelSelector: rare(fc.record({ matchLabels: m(fc.record({ zone: usual(['z1', 'z2']) })) })), enableOutCluster: opt(fc.boolean()) }, { requiredKeys: [] }));
  const policyMeta = m(fc.record({ name: pick(POLICY_NAMES), creationTimestamp: pick(TIMESTAMPS), uid: fc.constant('pu') }, { requiredKeys: ['name'] }));
  const lrp = fc.record({
    apiVersion: usual(['balanced.dev/v1alpha1', 'balanced.dev/v1alpha1', 'balanced.dev/v1alpha1', 'balancing.elf.io/v1beta1']),
    metadata: policyMeta,
    spec: m(
      fc.tuple(
        frontendAnd((toPorts) => m(fc.record({ endpointSelector: selector, toPorts: fc.constant(toPorts) }))),
        config,
      ).map(([fb, cfg]) => ({ ...fb, ...(cfg === undefined ? {} : { config: cfg }) })),
    ),
  });
  const bp = fc.record({
    apiVersion: usual(['balanced.dev/v1alpha1']),
    metadata: policyMeta,
    spec: m(
      fc.tuple(
        frontendAnd((toPorts) =>
          m(
            fc.oneof(
              { arbitrary: fc.record({ serviceEndpoint: m(fc.record({ endpointSelector: selector, toPorts: fc.constant(toPorts), redirectMode: opt(pick(['podEndpoint', 'hostPort', 'nodeProxy'])) }, { requiredKeys: ['endpointSelector', 'toPorts'] })) }), weight: 3 },
              { arbitrary: fc.record({ addressEndpoint: m(fc.record({ addresses: m(fc.uniqueArray(fc.constantFrom('192.0.2.10', '192.0.2.11', '2001:db8::10'), { minLength: 1, maxLength: 2 })), toPorts: fc.constant(toPorts) })) }), weight: 1 },
            ),
          ),
        ),
        config,
      ).map(([fb, cfg]) => ({ ...fb, ...(cfg === undefined ? {} : { config: cfg }) })),
    ),
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

  const none = fc.constant([] as unknown[]);
  return fc
    .record({
      services: fc.array(m(service), { minLength: 1, maxLength: 5 }),
      endpointSlices: fc.array(m(slice), { maxLength: 4 }),
      nodes: fc.array(m(node), { maxLength: 3 }),
      nodeName: fc.option(options.policies === true ? fc.constantFrom('n1', 'n1', 'n2', 'n3') : fc.constantFrom('n1', 'n2', 'n3'), { nil: undefined, freq: 5 }),
      pods: options.policies === true ? fc.array(m(pod), { maxLength: 8 }) : none,
      localRedirectPolicies: options.policies === true ? fc.array(m(lrp), { maxLength: 3 }) : none,
      balancingPolicies: options.policies === true ? fc.array(m(bp), { maxLength: 3 }) : none,
    })
    .chain((w) =>
      fc.tuple(fc.constant(w), fc.tuple(...w.services.map((svc) => fc.array(sliceFor(svc), { maxLength: 2 })))),
    )
    .map(([w, own]): ResolverInput => ({
      services: w.services as V1Service[],
      endpointSlices: [...w.endpointSlices, ...own.flat()] as V1EndpointSlice[],
      nodes: w.nodes as V1Node[],
      ...(w.nodeName === undefined ? {} : { nodeName: w.nodeName }),
      ...(options.policies === true
        ? { pods: w.pods as V1Pod[], localRedirectPolicies: w.localRedirectPolicies, balancingPolicies: w.balancingPolicies, podCgroups: TEST_POD_CGROUPS }
        : {}),
    }));
}
/** The same world with each list in another order. */
export function shuffled(world: ResolverInput): Arb<ResolverInput> {
  const perm = <T>(xs: readonly T[]): Arb<T[]> => fc.shuffledSubarray([...xs], { minLength: xs.length, maxLength: xs.length });
  return fc
    .tuple(perm(world.services), perm(world.endpointSlices), perm(world.nodes), perm(world.pods ?? []), perm(world.localRedirectPolicies ?? []), perm(world.balancingPolicies ?? []))
    .map(([services, endpointSlices, nodes, pods, localRedirectPolicies, balancingPolicies]) => ({
      ...world,
      services,
      endpointSlices,
      nodes,
      ...(world.pods === undefined ? {} : { pods }),
      ...(world.localRedirectPolicies === undefined ? {} : { localRedirectPolicies }),
      ...(world.balancingPolicies === undefined ? {} : { balancingPolicies }),
    }));
}
