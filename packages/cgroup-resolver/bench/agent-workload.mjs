// The cluster agent.bench.mjs asks the resolver agent to program: N ClusterIP Services (one
// TCP port each, ClusterIPs in 10.96.0.0/12) with one EndpointSlice of DESTS ready endpoints
// each, one Node (this node), and a seeded sequence of single-endpoint changes (flip ready,
// remove one, add one on a free address slot). Deterministic: the same N and seed give the
// same objects and changes. No address here is ever dialled (the bench sends no traffic).
import { benchEndpointSlice, ENDPOINT_SLOTS, endpointChurn, initialEndpoints } from '@balanced/testkit';

export { initialEndpoints };

export const NAMESPACE = 'default';
export const NODE_NAME = 'bench-node';
export const NODE_IP = '10.250.0.1';
export const PORT = 80;
export const TARGET_PORT = 8080;

const ip4 = (n) => `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;

/** 10.96.0.1 … (10,000 Services end at 10.96.39.16). */
export const clusterIpOf = (i) => ip4(((10 << 24) | (96 << 16)) + i + 1);
/** Pod addresses in 10.128.0.0/10: 64 slots per Service. */
export const podIpOf = (i, slot) => ip4(((10 << 24) | (128 << 16)) + i * ENDPOINT_SLOTS + slot);
export const serviceName = (i) => `svc-${i}`;
export const sliceName = (i) => `svc-${i}-x7k2p`;

export function service(i) {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: serviceName(i), namespace: NAMESPACE, uid: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`, creationTimestamp: '2026-01-01T00:00:00Z' },
    spec: {
      type: 'ClusterIP',
      selector: { app: serviceName(i) },
      clusterIP: clusterIpOf(i),
      clusterIPs: [clusterIpOf(i)],
      ipFamilies: ['IPv4'],
      ipFamilyPolicy: 'SingleStack',
      sessionAffinity: 'None',
      internalTrafficPolicy: 'Cluster',
      ports: [{ name: 'http', protocol: 'TCP', port: PORT, targetPort: TARGET_PORT }],
    },
    status: { loadBalancer: {} },
  };
}

/** endpoints: Map slot → ready */
export function slice(i, endpoints) {
  return benchEndpointSlice({
    name: sliceName(i),
    namespace: NAMESPACE,
    serviceName: serviceName(i),
    port: TARGET_PORT,
    endpoints,
    addressOf: (slot) => podIpOf(i, slot),
  // One endpoint in 16 runs on this node (local), the rest elsewhere.
    nodeOf: (slot) => (slot % 16 === 0 ? NODE_NAME : `node-${slot % 16}`),
  });
}

export function node() {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name: NODE_NAME, labels: { 'kubernetes.io/hostname': NODE_NAME } },
    status: { addresses: [{ type: 'InternalIP', address: NODE_IP }, { type: 'Hostname', address: NODE_NAME }] },
  };
}

/**
 * `count` changes, each to ONE EndpointSlice (testkit's endpointChurn, a removal taking a ready endpoint so every change changes the table):
 * the slice body after each change.
 */
export function changes(services, dests, count, seed = 42) {
  return endpointChurn(services, dests, count, { seed, removeReady: true }).map((c) => ({
    service: c.service,
    kind: c.kind,
    address: podIpOf(c.service, c.slot),
    clusterIp: clusterIpOf(c.service), ready: [...c.endpoints].filter(([, r]) => r).map(([s]) => podIpOf(c.service, s)).sort(),
    body: slice(c.service, c.endpoints),
  }));
}
