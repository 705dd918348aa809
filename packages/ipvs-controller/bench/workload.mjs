// The cluster the controller benches program: N LoadBalancer Services (one TCP port each,
// VIPs in 10.64.0.0/10) with one EndpointSlice of DESTS ready endpoints each, and a seeded
// sequence of single-endpoint changes (flip ready, remove one, add one at a random place in
// the address order). Deterministic: the same N and seed give the same objects and changes.
import { benchEndpointSlice, ENDPOINT_SLOTS, endpointChurn, initialEndpoints } from '@balanced/testkit';

export { initialEndpoints };

export const NAMESPACE = 'default';
export const VIP_CIDR = '10.64.0.0/10';
export const CLASS = 'balanced.dev/ipvs';
export const PORT = 80;

const ip4 = (n) => `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;

export const vipOf = (i) => ip4(((10 << 24) | (64 << 16)) + i);
export const podIpOf = (i, slot) => ip4(((172 << 24) | (16 << 16)) + i * ENDPOINT_SLOTS + slot);
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
  return benchEndpointSlice({
    name: sliceName(i),
    namespace: NAMESPACE,
    serviceName: serviceName(i),
    port: PORT,
    endpoints,
    addressOf: (slot) => podIpOf(i, slot),
    nodeOf: (slot) => `node-${slot % 16}`,
  });
}

/**
 * `count` changes, each to ONE EndpointSlice (testkit's endpointChurn):
 * the slice body after each change.
 */
export function changes(services, dests, count, seed = 42) {
  return endpointChurn(services, dests, count, { seed }).map((c) => ({
    service: c.service,
    kind: c.kind,
    address: podIpOf(c.service, c.slot),
    vip: vipOf(c.service),
    body: slice(c.service, c.endpoints),
  }));
}
