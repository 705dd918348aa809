// What the resolver's informer caches keep of each object: the fields buildResolverState
// reads, nothing more (every node runs the resolver and caches every Service, EndpointSlice
// and Pod of the cluster). test/cache-fields.test.ts holds the builder to the same output on
// projected and whole objects; a field the builder starts reading must be added here or that
// test fails.
import type { KubernetesObject } from '@kubernetes/client-node';
import { SERVICE_NAME_LABEL, keysStartingWith, project, type ObjectTransform, type Shape } from '@balanced/k8s';
import { POD_EVENT_SHAPE } from './events/pod-fields.js';

const IDENTITY = { name: true, namespace: true, uid: true, resourceVersion: true } as const;

const SERVICE: Shape = {
  metadata: { ...IDENTITY, creationTimestamp: true },
  spec: {
    type: true,
    clusterIP: true,
    clusterIPs: true,
    ipFamilies: true,
    ports: true,
    selector: true,
    externalIPs: true,
    externalName: true,
    sessionAffinity: true,
    sessionAffinityConfig: true,
    internalTrafficPolicy: true,
    externalTrafficPolicy: true,
  },
  status: { loadBalancer: { ingress: [{ ip: true, ipMode: true }] } },
};

const ENDPOINT_SLICE: Shape = {
  metadata: { ...IDENTITY, creationTimestamp: true, labels: keysStartingWith(SERVICE_NAME_LABEL) },
  addressType: true,
  ports: true,
  endpoints: [{ addresses: true, conditions: { ready: true, serving: true, terminating: true }, nodeName: true }],
};

const NODE: Shape = {
  metadata: { ...IDENTITY, labels: true, annotations: keysStartingWith('balanced.dev/') },
  status: { addresses: true },
};

/** What the policies read of a pod (desired/policy-pods.ts). */
const POD = {
  metadata: { ...IDENTITY, labels: true, deletionTimestamp: true },
  spec: { nodeName: true, containers: [{ ports: [{ containerPort: true, hostPort: true, name: true, protocol: true }] }] },
  status: { podIP: true, podIPs: true, hostIP: true, hostIPs: true, conditions: [{ type: true, status: true }] },
} as const satisfies Shape;

/** The same, and what resolution events read to name a client pod (one pods cache for both). */
const POD_WITH_EVENTS: Shape = {
  metadata: { ...POD.metadata, ...POD_EVENT_SHAPE.metadata },
  spec: POD.spec,
  status: { ...POD.status, ...POD_EVENT_SHAPE.status },
};

/**
 * LocalRedirectPolicy and BalancingPolicy (plain JSON): parsePolicy reads apiVersion, kind,
 * metadata and spec; status is kept for the status writer, which compares it with the status
 * it computes (policies are few: this costs nothing worth saving).
 */
const POLICY: Shape = {
  apiVersion: true,
  kind: true,
  metadata: { ...IDENTITY, generation: true, creationTimestamp: true },
  spec: true,
  status: true,
};

function transform(shape: Shape): ObjectTransform {
  return (object: KubernetesObject) => project(object, shape) as KubernetesObject;
}

/** Cache transforms for the resolver's informers. */
export const resolverTransforms = {
  services: transform(SERVICE),
  endpointslices: transform(ENDPOINT_SLICE),
  nodes: transform(NODE),
  pods: transform(POD),
  localredirectpolicies: transform(POLICY),
  balancingpolicies: transform(POLICY),
} as const;

/** The pods transform when resolution events also name client pods from the cache. */
export const resolverPodsWithEvents: ObjectTransform = transform(POD_WITH_EVENTS);
