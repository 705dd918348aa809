// fast-check arbitraries for structurally wrong Kubernetes objects (issue 13's fuzz row): a
// well-formed template with one to three of its fields replaced by a wrong value (null, a
// number where a string belongs, an array where an object belongs, huge or negative ports,
// bad IPs and CIDRs, unicode, …) or removed. Starting from a valid object keeps each case
// close to what a reader accepts, which is where a missing guard shows.
import fc from 'fast-check';

type Json = Record<string, unknown>;

/** Values that are wrong for most fields; none of them names the neighbours' addresses (10.0.0.0/28). */
const BAD_TEXT = [
  '', ' ', '999.1.1.1', '10.0.1', '10.0.1.1/33', '10.0.1.0/-1', '::g', 'fe80::1%eth0', ' 10.0.1.5', '10.0.1.5 ',
  '0.0.0.0', '255.255.255.255', '10.0.1.5,10.0.1.6', '10.0.1.5,,', ',', '65536:1', '1:99999', 'abc:def', '-1', '1e9',
  '0x50', 'mh,bogus', 'rr', 'mh-port', 'tunnel', 'gue', 'direct', 'TCP', 'SCTP', 'udp', 'LoadBalancer', 'ClusterIP',
  'balanced.dev/ipvs', 'other/class', 'IPv6', 'IPv4', 'true', 'false', 'null', '__proto__', 'constructor', 'toString',
  '\u0000', '\ud800', 'ünïcödé', '🦄', '2026-13-45T99:99:99Z', 'Z'.repeat(5000),
];

const badValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.constant(null),
  fc.constantFrom(0, -1, -80, 65535, 65536, 70000, 2 ** 31, -(2 ** 53), Number.MAX_SAFE_INTEGER, 1e308, 0.5, 80.5, Number.NaN, Number.POSITIVE_INFINITY),
  fc.integer(),
  fc.boolean(),
  fc.constantFrom(...BAD_TEXT),
  fc.string({ unit: 'grapheme', maxLength: 12 }),
  fc.constantFrom([], {}, [null], [[]], [{}], ['10.0.1.5'], [80], { ip: '10.0.1.5' }, { port: 80 }),
  fc.array(fc.oneof(fc.constant(null), fc.integer(), fc.constantFrom(...BAD_TEXT), fc.dictionary(fc.constantFrom('ip', 'port', 'name', 'addresses', 'protocol'), fc.constantFrom(...BAD_TEXT))), { maxLength: 3 }),
  fc.anything({ maxDepth: 2 }),
);

const REMOVE = Symbol('remove');

/** Sets (or removes) `path` in a deep copy of `template`; a path through a non-object is left alone. */
function withValue(template: Json, path: readonly string[], value: unknown): Json {
  const copy = structuredClone(template);
  let node: unknown = copy;
  for (const step of path.slice(0, -1)) {
    if (typeof node !== 'object' || node === null) return copy;
    node = (node as Json)[step];
  }
  const last = path[path.length - 1] as string;
  if (typeof node !== 'object' || node === null) return copy;
  if (value === REMOVE) delete (node as Json)[last];
  else (node as Json)[last] = value;
  return copy;
}

/** Paths of every field of `object` (objects and arrays walked), parents before children. */
function pathsOf(object: unknown, prefix: readonly string[] = []): string[][] {
  if (typeof object !== 'object' || object === null) return [];
  const out: string[][] = [];
  for (const [k, v] of Object.entries(object)) {
    out.push([...prefix, k]);
    out.push(...pathsOf(v, [...prefix, k]));
  }
  return out;
}

/** A malformed copy of `template`: 1–3 fields replaced by wrong values or removed. */
export function malformed(template: Json): fc.Arbitrary<Json> {
  const paths = pathsOf(template);
  const edit = fc.tuple(fc.constantFrom(...paths), fc.oneof({ weight: 1, arbitrary: fc.constant<unknown>(REMOVE) }, { weight: 6, arbitrary: badValue }));
  return fc.array(edit, { minLength: 1, maxLength: 3 }).map((edits) => edits.reduce((obj, [path, value]) => withValue(obj, path, value), template));
}

// ---- templates: valid objects in namespace `fuzz`, on addresses in 10.0.1.0/28 (pool-a) ----

export const FUZZ_NAMESPACE = 'fuzz';

export const serviceTemplate: Json = {
  apiVersion: 'v1',
  kind: 'Service',
  metadata: {
    namespace: FUZZ_NAMESPACE,
    name: 'svc',
    uid: 'uid-fuzz-svc',
    resourceVersion: '7',
    creationTimestamp: '2026-01-02T00:00:00Z',
    labels: { app: 'x' },
    annotations: {
      'balanced.dev/scheduler': 'mh',
      'balanced.dev/scheduler-flags': 'mh-fallback',
      'balanced.dev/forwarding': 'tunnel',
      'balanced.dev/ip-pool': 'pool-a',
      'balanced.dev/ip-request': '10.0.1.5',
      'balanced.dev/drain-seconds': '5',
      'balanced.dev/bgp-communities': '65000:7',
    },
  },
  spec: {
    type: 'LoadBalancer',
    loadBalancerClass: 'balanced.dev/ipvs',
    selector: { app: 'x' },
    clusterIP: '10.96.1.5',
    clusterIPs: ['10.96.1.5'],
    ipFamilies: ['IPv4'],
    loadBalancerIP: '10.0.1.5',
    loadBalancerSourceRanges: ['192.0.2.0/24'],
    sessionAffinity: 'ClientIP',
    sessionAffinityConfig: { clientIP: { timeoutSeconds: 60 } },
    internalTrafficPolicy: 'Cluster',
    externalTrafficPolicy: 'Cluster',
    ports: [
      { name: 'http', protocol: 'TCP', port: 80, targetPort: 80, nodePort: 30080 },
      { name: 'dns', protocol: 'UDP', port: 53, targetPort: 'dns' },
    ],
  },
  status: { loadBalancer: { ingress: [{ ip: '10.0.1.5' }] } },
};

export const sliceTemplate: Json = {
  apiVersion: 'discovery.k8s.io/v1',
  kind: 'EndpointSlice',
  metadata: { namespace: FUZZ_NAMESPACE, name: 'svc-abcde', uid: 'uid-fuzz-slice', labels: { 'kubernetes.io/service-name': 'svc' } },
  addressType: 'IPv4',
  ports: [
    { name: 'http', protocol: 'TCP', port: 80 },
    { name: 'dns', protocol: 'UDP', port: 53 },
  ],
  endpoints: [
    { addresses: ['10.244.1.5'], conditions: { ready: true, serving: true, terminating: false }, nodeName: 'node-a', targetRef: { kind: 'Pod', namespace: FUZZ_NAMESPACE, name: 'pod-5', uid: 'uid-pod-5' } },
    { addresses: ['10.244.1.6'], conditions: { ready: false, serving: true, terminating: true }, nodeName: 'node-b', hints: { forZones: [{ name: 'z' }] } },
  ],
};

export const poolTemplate: Json = {
  apiVersion: 'balanced.dev/v1alpha1',
  kind: 'VipPool',
  metadata: { name: 'pool-a', uid: 'uid-pool-a', resourceVersion: '3' },
  spec: {
    cidrs: ['10.0.1.0/28', '10.0.1.16-10.0.1.20'],
    autoAssign: true,
    avoidBuggyIPs: true,
    serviceSelector: { matchLabels: { app: 'x' }, matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['db'] }] },
    bgpCommunities: ['65000:2'],
  },
};

export const localRedirectTemplate: Json = {
  apiVersion: 'balanced.dev/v1alpha1',
  kind: 'LocalRedirectPolicy',
  metadata: { name: 'lrp', namespace: FUZZ_NAMESPACE, uid: 'uid-lrp', creationTimestamp: '2026-01-02T00:00:00Z' },
  spec: {
    frontend: { serviceMatcher: { namespace: FUZZ_NAMESPACE, serviceName: 'svc', toPorts: [{ port: 53, protocol: 'UDP', name: 'dns' }] } },
    backend: { endpointSelector: { matchLabels: { app: 'cache' } }, toPorts: [{ port: 5353, protocol: 'UDP', name: 'dns' }] },
    config: { nodeLabelSelector: { matchLabels: { zone: 'a' } }, enableOutCluster: true },
  },
};

export const balancingTemplate: Json = {
  apiVersion: 'balanced.dev/v1alpha1',
  kind: 'BalancingPolicy',
  metadata: { name: 'bp', namespace: FUZZ_NAMESPACE, uid: 'uid-bp' },
  spec: {
    frontend: { addressMatcher: { ip: '10.96.1.9', toPorts: [{ port: 80, protocol: 'TCP', name: 'http' }] } },
    backend: { addressEndpoint: { addresses: ['10.244.1.9', '10.244.1.10'], toPorts: [{ port: 8080, protocol: 'TCP', name: 'http' }] } },
  },
};
