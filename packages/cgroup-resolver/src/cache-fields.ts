// What the resolver's informer caches keep of each object: the fields buildResolverState
// reads, nothing more (every node runs the resolver and caches every Service and
// EndpointSlice of the cluster). test/cache-fields.test.ts holds the builder to the same
// output on projected and whole objects; a field the builder starts reading must be added
// here or that test fails.
import type { KubernetesObject } from '@kubernetes/client-node';
import { SERVICE_NAME_LABEL, keysStartingWith, project, type ObjectTransform, type Shape } from '@balanced/k8s';

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

function transform(shape: Shape): ObjectTransform {
  return (object: KubernetesObject) => project(object, shape) as KubernetesObject;
}

/** Cache transforms for the resolver's informers (services, endpointslices, nodes). */
export const resolverTransforms = {
  services: transform(SERVICE),
  endpointslices: transform(ENDPOINT_SLICE),
  nodes: transform(NODE),
} as const;
