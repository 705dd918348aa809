// The Kubernetes objects of the demo: the VipPools of example/vippools.yaml, one
// LoadBalancer Service (no address: the allocator gives it one), the node's pods and the
// EndpointSlice a control plane would write for them.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';

export const NAMESPACE = 'shop';
export const SERVICE = 'web';
export const NODE = 'node-1';
export const CLUSTER_IP = '10.96.0.80';
export const LB_CLASS = 'balanced.dev/ipvs';
/** The directors' and the allocator's VIP range (deploy/ipvs-controller.yaml). */
export const VIP_CIDR = '10.96.100.0/24';
export const VIPPOOL_CRD = { group: 'balanced.dev', version: 'v1alpha1', plural: 'vippools', kind: 'VipPool', namespaced: false };

/** A pod UID in hex (the endpoint-controller finds the pod's processes by `pod<uid>` in their cgroup). */
export const podUid = (index) => `00000000-0000-4000-8000-${(index + 1).toString(16).padStart(12, '0')}`;

export function vipPools(exampleDir) {
  return parseAllDocuments(readFileSync(join(exampleDir, 'vippools.yaml'), 'utf8'))
    .map((d) => d.toJS())
    .filter((o) => o?.kind === 'VipPool');
}

export function service(port) {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: SERVICE, namespace: NAMESPACE, uid: 'svc-web-0001', creationTimestamp: '2026-01-01T00:00:00Z' },
    spec: {
      type: 'LoadBalancer',
      loadBalancerClass: LB_CLASS,
      clusterIP: CLUSTER_IP,
      clusterIPs: [CLUSTER_IP],
      ipFamilies: ['IPv4'],
      selector: { app: SERVICE },
      ports: [
        { name: 'tcp', protocol: 'TCP', port, targetPort: port },
        { name: 'udp', protocol: 'UDP', port, targetPort: port },
      ],
    },
  };
}

export function pod(p, index) {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: p.name, namespace: NAMESPACE, uid: podUid(index), labels: { app: SERVICE } },
    spec: { nodeName: NODE, terminationGracePeriodSeconds: 30, containers: [{ name: 'web', image: 'web' }] },
    status: { phase: 'Running', podIP: p.address, podIPs: [{ ip: p.address }] },
  };
}

/** One slice for all pods; `terminating` names the pods that are draining. */
export function endpointSlice(pods, port, terminating = []) {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name: `${SERVICE}-x1`, namespace: NAMESPACE, labels: { 'kubernetes.io/service-name': SERVICE } },
    addressType: 'IPv4',
    ports: [
      { name: 'tcp', protocol: 'TCP', port },
      { name: 'udp', protocol: 'UDP', port },
    ],
    endpoints: pods.map((p, index) => {
      const draining = terminating.includes(p.name);
      return {
        addresses: [p.address],
        conditions: { ready: !draining, serving: true, terminating: draining },
        nodeName: NODE,
        targetRef: { kind: 'Pod', namespace: NAMESPACE, name: p.name, uid: podUid(index) },
      };
    }),
  };
}
