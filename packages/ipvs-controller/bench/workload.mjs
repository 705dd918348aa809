// The cluster the controller benches program: N LoadBalancer Services (one TCP port each,
// VIPs in 10.64.0.0/10) with one EndpointSlice of DESTS ready endpoints each, and a seeded
// sequence of single-endpoint changes (flip ready, remove one, add one at a random place in
// the address order). Deterministic: the same N and seed give the same objects and changes.

export const NAMESPACE = 'default';
export const VIP_CIDR = '10.64.0.0/10';
export const CLASS = 'balanced.dev/ipvs';
export const PORT = 80;
/** Address slots per service: endpoints are spread evenly over them; additions take a free slot. */
const SLOTS = 64;

const ip4 = (n) => `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;

export const vipOf = (i) => ip4(((10 << 24) | (64 << 16)) + i);
export const podIpOf = (i, slot) => ip4(((172 << 24) | (16 << 16)) + i * SLOTS + slot);
export const serviceName = (i) => `svc-${i}`;
export const sliceName = (i) => `svc-${i}-x7k2p`;

export function service(i) {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: serviceName(i), namespace: NAMESPACE, uid: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`, creationTimestamp: '2026-01-01T00:00:00Z' },
    spec: { type: 'LoadBalancer', loadBalancerClass: CLASS, selector: { app: serviceName(i) }, ports: [{ name: 'http', protocol: 'TCP', port: PORT, targetPort: PORT }] },
    status: { loadBalancer: { ingress: [{ ip: vipOf(i), ipMode: 'VIP' }] } },
  };
}

/** endpoints: Map slot → ready */
export function slice(i, endpoints) {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name: sliceName(i), namespace: NAMESPACE, labels: { 'kubernetes.io/service-name': serviceName(i), 'endpointslice.kubernetes.io/managed-by': 'endpointslice-controller.k8s.io' } },
    addressType: 'IPv4',
    ports: [{ name: 'http', protocol: 'TCP', port: PORT }],
    endpoints: [...endpoints.entries()]
      .sort((a, b) => a[0] - b[0])
      .map(([slot, ready]) => ({
        addresses: [podIpOf(i, slot)],
        conditions: { ready, serving: ready, terminating: false },
        nodeName: `node-${slot % 16}`,
        targetRef: { kind: 'Pod', namespace: NAMESPACE, name: `${serviceName(i)}-${slot}` },
      })),
  };
}

export function initialEndpoints(dests) {
  return new Map(Array.from({ length: dests }, (_, d) => [Math.floor(((d + 0.5) * SLOTS) / dests), true]));
}

function mulberry32(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * `count` changes, each to ONE EndpointSlice: flip one endpoint's ready condition, remove one
 * endpoint, or add one on a free address slot (so it lands anywhere in the canonical order).
 * Returns the slice body after each change; `state` (service → endpoints) is advanced.
 */
export function changes(services, dests, count, seed = 42) {
  const rand = mulberry32(seed);
  const state = new Map();
  const endpointsOf = (i) => {
    let e = state.get(i);
    if (!e) state.set(i, (e = initialEndpoints(dests)));
    return e;
  };
  const out = [];
  for (let c = 0; c < count; c++) {
    const i = Math.floor(rand() * services);
    const e = endpointsOf(i);
    let kind = ['flip-ready', 'remove', 'add'][Math.floor(rand() * 3)];
    if (kind === 'remove' && e.size <= 1) kind = 'add';
    if (kind === 'add' && e.size >= SLOTS) kind = 'flip-ready';
    const slots = [...e.keys()];
    let slot;
    if (kind === 'flip-ready') {
      slot = slots[Math.floor(rand() * slots.length)];
      e.set(slot, !e.get(slot));
    } else if (kind === 'remove') {
      slot = slots[Math.floor(rand() * slots.length)];
      e.delete(slot);
    } else {
      do slot = Math.floor(rand() * SLOTS);
      while (e.has(slot));
      e.set(slot, true);
    }
    out.push({ service: i, kind, address: podIpOf(i, slot), vip: vipOf(i), body: slice(i, e) });
  }
  return out;
}
