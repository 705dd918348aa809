// The generated worlds of the desired-state property tests: Services, EndpointSlices and Pods
// from a small universe (so objects collide), optionally corrupted (any field may be anything).
import fc from 'fast-check';
import type { V1EndpointSlice, V1Pod, V1Service } from '@kubernetes/client-node';
import type { DesiredInput } from '../src/desired-state.js';

// A small universe so that generated objects collide: shared names, shared VIPs, shared
// endpoint addresses, dual-stack, ports that do and do not match.
const NAMESPACES = ['a', 'a', 'a', 'b'];
const SERVICE_NAMES = ['s1', 's2', 's3'];
const VIPS = ['10.96.0.1', '10.96.0.2', '10.96.0.3', 'fd00::1'];
const ENDPOINT_IPS = ['10.0.0.1', '10.0.0.2', '10.0.0.10', '10.0.0.9', '10.1.0.1', 'fd00::a', 'fd00::b', 'FD00::C'];
const PORT_SPECS = [
  { name: 'http', port: 80, protocol: 'TCP' },
  { name: 'https', port: 443, protocol: 'TCP' },
  { name: '', port: 53, protocol: 'UDP' },
];
/** A named targetPort that resolves to another number: IPIP cannot do that. */
const MISMATCHED = { name: 'http', port: 8080, protocol: 'TCP' };
const ANNOTATIONS: Record<string, string>[] = [
  {},
  {},
  { 'balanced.dev/scheduler': 'rr' },
  { 'balanced.dev/scheduler-flags': 'mh-port' },
  { 'balanced.dev/forwarding': 'gue', 'balanced.dev/gue-port': '6080' },
  { 'balanced.dev/drain-seconds': '7' },
  { 'balanced.dev/scheduler': 'bogus' },
];

type Arb<T> = fc.Arbitrary<T>;

/**
 * corrupt: any field may be replaced by `junk` — by default anything at all (boxed values, Maps,
 * BigInts, …); JSON values are what an API server can actually send.
 */
export function worldArb(
  corrupt: boolean,
  junk: Arb<unknown> = fc.anything({ withNullPrototype: true, withBoxedValues: true, withDate: true, withBigInt: true, withSparseArray: true, withMap: true, withSet: true }),
): Arb<Omit<DesiredInput, 'ownsVip'>> {
  // In corrupt mode, every field may be replaced by anything at all.
  const m = <T>(a: Arb<T>): Arb<unknown> => (corrupt ? fc.oneof({ arbitrary: a as Arb<unknown>, weight: 6 }, { arbitrary: junk, weight: 1 }) : a);

  const port = (p: { name: string; port: number; protocol: string }): Arb<unknown> =>
    m(fc.record({ name: m(fc.constant(p.name)), port: m(fc.constant(p.port)), protocol: m(fc.constant(p.protocol)) }));
  const servicePorts = fc.subarray(PORT_SPECS, { minLength: 1 }).chain((ps) => fc.tuple(...ps.map(port)));
  const slicePorts = fc
    .tuple(fc.subarray(PORT_SPECS), fc.nat(9))
    .chain(([ps, n]) => fc.tuple(...(n === 0 ? [...ps.filter((p) => p.name !== 'http'), MISMATCHED] : ps).map(port)));
  const service = fc.record({
    metadata: m(
      fc.record({
        namespace: m(fc.constantFrom(...NAMESPACES)),
        name: m(fc.constantFrom(...SERVICE_NAMES)),
        annotations: m(fc.constantFrom(...ANNOTATIONS)),
        creationTimestamp: m(fc.constantFrom(new Date('2024-01-01T00:00:00Z'), new Date('2025-01-01T00:00:00Z'))),
      }),
    ),
    spec: m(
      fc.record(
        {
          type: m(fc.constantFrom('LoadBalancer', 'LoadBalancer', 'LoadBalancer', 'ClusterIP')),
          loadBalancerClass: m(fc.constantFrom('balanced.dev/ipvs', 'balanced.dev/ipvs', 'other.io/lb')),
          ports: m(servicePorts),
        },
        { requiredKeys: ['type', 'ports'] }, // no class: ours only with --default-class
      ),
    ),
    status: m(fc.record({ loadBalancer: m(fc.record({ ingress: m(fc.array(m(fc.record({ ip: m(fc.constantFrom(...VIPS)) })), { minLength: 1, maxLength: 3 })) })) })),
  });

  const conditions = fc.record(
    { ready: m(fc.boolean()), serving: m(fc.boolean()), terminating: m(fc.boolean()) },
    { requiredKeys: [] },
  );
  const endpoint = fc.record(
    {
      addresses: m(fc.array(m(fc.constantFrom(...ENDPOINT_IPS)), { minLength: 1, maxLength: 2 })),
      conditions: m(conditions),
      targetRef: m(fc.record({ kind: m(fc.constant('Pod')), name: m(fc.constantFrom('p1', 'p2', 'p3')) })),
    },
    { requiredKeys: ['addresses'] },
  );
  const slice = fc.record({
    metadata: m(
      fc.record({
        namespace: m(fc.constantFrom(...NAMESPACES)),
        name: m(fc.constantFrom('e1', 'e2', 'e3', 'e4', 'e5')),
        labels: m(fc.record({ 'kubernetes.io/service-name': m(fc.constantFrom(...SERVICE_NAMES)) })),
      }),
    ),
    addressType: m(fc.constantFrom('IPv4', 'IPv4', 'IPv4', 'IPv6', 'IPv6', 'FQDN')),
    ports: m(slicePorts),
    endpoints: m(fc.array(m(endpoint), { minLength: 1, maxLength: 6 })),
  });
  const pod = fc.record({
    metadata: m(fc.record({ namespace: m(fc.constantFrom(...NAMESPACES)), name: m(fc.constantFrom('p1', 'p2', 'p3')) })),
    spec: m(fc.record({ terminationGracePeriodSeconds: m(fc.constantFrom(0, 30, 120)) })),
  });

  // Real caches hold each namespace/name once; corrupt worlds may repeat them.
  const key = (o: unknown): string => {
    const md = (o as { metadata?: { namespace?: unknown; name?: unknown } }).metadata;
    return corrupt ? Math.random().toString() : `${String(md?.namespace)}/${String(md?.name)}`;
  };
  const list = <T>(a: Arb<T>, maxLength: number, minLength: number): Arb<T[]> =>
    corrupt ? fc.array(a, { maxLength }) : fc.uniqueArray(a, { minLength, maxLength, selector: key });
  return fc.record({
    services: list(service, 5, 1) as Arb<unknown> as Arb<V1Service[]>,
    endpointSlices: list(slice, 8, 1) as Arb<unknown> as Arb<V1EndpointSlice[]>,
    pods: list(pod, 3, 0) as Arb<unknown> as Arb<V1Pod[]>,
    defaultClass: fc.boolean(),
  });
}

