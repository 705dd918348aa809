// The Kubernetes objects of the demo: the VipPools of example/vippools.yaml, one
// LoadBalancer Service (no address: the allocator gives it one), the node's pods and the
// EndpointSlice a control plane would write for them; the policy CRDs of
// deploy/policy-crds.yaml, a node-local pod and the LocalRedirectPolicy that sends the
// Service to it.
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

/** The CustomResourceDefinitions of deploy/policy-crds.yaml, as the test API server registers them. */
export function policyCrds(repo) {
  return parseAllDocuments(readFileSync(join(repo, 'deploy', 'policy-crds.yaml'), 'utf8'))
    .map((d) => d.toJS())
    .filter((o) => o?.kind === 'CustomResourceDefinition')
    .map(({ spec }) => {
      const version = spec.versions.find((v) => v.storage) ?? spec.versions[0];
      return {
        group: spec.group,
        version: version.name,
        plural: spec.names.plural,
        singular: spec.names.singular,
        kind: spec.names.kind,
        shortNames: spec.names.shortNames,
        namespaced: spec.scope === 'Namespaced',
        statusSubresource: version.subresources?.status !== undefined,
      };
    });
}

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

/** The node-local pod a LocalRedirectPolicy sends the Service to: not one of the Service's own pods. */
export const LOCAL_POD = { name: 'web-local', labels: { app: 'web-local' }, uid: '00000000-0000-4000-8000-00000000010c' };
export const REDIRECT_POLICY = 'web-node-local';

/** The node-local pod as the kubelet reports it; `ready` is its Ready condition. */
export function localPod(address, port, ready) {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: LOCAL_POD.name, namespace: NAMESPACE, uid: LOCAL_POD.uid, labels: LOCAL_POD.labels },
    spec: { nodeName: NODE, containers: [{ name: 'web', image: 'web', ports: [{ containerPort: port, protocol: 'TCP' }] }] },
    status: { phase: 'Running', podIP: address, podIPs: [{ ip: address }], conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }] },
  };
}

/** TCP connections to the Service's ClusterIP go to a ready pod labelled app=web-local on the client's node. */
export function localRedirectPolicy(port) {
  return {
    apiVersion: 'balanced.dev/v1alpha1',
    kind: 'LocalRedirectPolicy',
    metadata: { name: REDIRECT_POLICY },
    spec: {
      frontend: { serviceMatcher: { namespace: NAMESPACE, serviceName: SERVICE, toPorts: [{ port, protocol: 'TCP' }] } },
      backend: { endpointSelector: { matchLabels: LOCAL_POD.labels }, toPorts: [{ port, protocol: 'TCP' }] },
    },
  };
}
