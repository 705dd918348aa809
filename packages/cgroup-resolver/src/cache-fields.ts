// What the resolver's informer caches keep of each object: the fields buildResolverState
// reads, nothing more (every node runs the resolver and caches every Service, EndpointSlice
// and Pod of the cluster). test/cache-fields.test.ts holds the builder to the same output on
// projected and whole objects; a field the builder starts reading must be added here or that
// test fails.
import type { KubernetesObject } from '@kubernetes/client-node';
import { SERVICE_NAME_LABEL, keysStartingWith, project, type ObjectTransform, type Shape } from '@balanced/k8s';
import { POD_EVENT_SHAPE } from './events/pod-fields.js';

const IDENTITY = { name: true, namespace: true, uid: true, resourceVersion: true } as const;

/** What the resolver reads of a Service (exported for the builder's last tie-break). */
export const SERVICE_SHAPE: Shape = {
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

const CONDITION_KEYS = ['ready', 'serving', 'terminating'] as const;
const CONDITIONS: Shape = { ready: true, serving: true, terminating: true };

/**
 * Every combination of boolean ready/serving/terminating (each present or not), in that key
 * order, as one frozen object: an endpoint's conditions are one of a few, and the cache holds
 * every endpoint of the cluster (100,000 objects fewer at 10,000 Services x 10).
 */
const SHARED_CONDITIONS: readonly Readonly<Record<string, boolean>>[] = Array.from({ length: 27 }, (_, code) => {
  const out: Record<string, boolean> = {};
  for (const [i, key] of CONDITION_KEYS.entries()) {
    const v = Math.floor(code / 3 ** (2 - i)) % 3; // 0 absent, 1 true, 2 false
    if (v !== 0) out[key] = v === 1;
  }
  return Object.freeze(out);
});

/** The shared object equal to the projected conditions (same keys, same order), else the projection. */
function sharedConditions(value: unknown): unknown {
  if (value === null || typeof value !== 'object' || Array.isArray(value) || Object.getPrototypeOf(value) !== Object.prototype) return project(value, CONDITIONS);
  const record = value as Record<string, unknown>;
  let code = 0;
  let next = 0;
  for (const key in record) {
    if (!Object.prototype.hasOwnProperty.call(record, key)) continue;
    const v = record[key];
    const i = (CONDITION_KEYS as readonly string[]).indexOf(key);
    if (i < 0 || v === undefined) continue; // not kept either way
    if (i < next || typeof v !== 'boolean') return project(value, CONDITIONS);
    next = i + 1;
    code += (v ? 1 : 2) * 3 ** (2 - i);
  }
  return SHARED_CONDITIONS[code];
}

const ENDPOINT_SLICE: Shape = {
  metadata: { ...IDENTITY, creationTimestamp: true, labels: keysStartingWith(SERVICE_NAME_LABEL) },
  addressType: true,
  ports: true,
  endpoints: [{ addresses: true, conditions: sharedConditions, nodeName: true }],
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
  services: transform(SERVICE_SHAPE),
  endpointslices: transform(ENDPOINT_SLICE),
  nodes: transform(NODE),
  pods: transform(POD),
  localredirectpolicies: transform(POLICY),
  balancingpolicies: transform(POLICY),
} as const;

/** The pods transform when resolution events also name client pods from the cache. */
export const resolverPodsWithEvents: ObjectTransform = transform(POD_WITH_EVENTS);
