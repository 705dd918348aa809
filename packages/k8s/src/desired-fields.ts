// The fields the desired-state builder (desired-state.ts, annotations.ts) reads, as cache
// projections: a director's informers keep only these. The property test in
// desired-fields.test.ts holds the builder to the same output on projected objects as on whole
// ones, for well-formed and malformed objects alike; a new field read by the builder must be
// added here or that test fails.
import type { KubernetesObject } from '@kubernetes/client-node';
import { ANNOTATION_PREFIX, BALANCED_D_ANNOTATION_PREFIX } from './annotations.js';
import { SERVICE_NAME_LABEL } from './desired-state.js';
import { LAST_ACCEPTED_ANNOTATION } from './last-good.js';
import { keysStartingWith, project, type Shape } from './projection.js';
import { asRecord } from './read.js';

/** What every cached object keeps: identity, and the version the informer compares. */
const IDENTITY = { name: true, namespace: true, uid: true, resourceVersion: true } as const;

// (and the recorded copy of the last accepted ones, which a Service refused for its annotations is rebuilt from)
const ourAnnotations = keysStartingWith(ANNOTATION_PREFIX, BALANCED_D_ANNOTATION_PREFIX, LAST_ACCEPTED_ANNOTATION);

const SERVICE: Shape = {
  metadata: { ...IDENTITY, creationTimestamp: true, annotations: ourAnnotations },
  // Ports whole: a refusal quotes a malformed port entry as it is (and they are few).
  spec: { type: true, loadBalancerClass: true, ports: true, loadBalancerSourceRanges: true }, // (source ranges: the ipvs-controller's firewall)
  status: { loadBalancer: { ingress: [{ ip: true }] } },
};

/**
 * An endpoint's conditions as the builder reads them (ready, terminating). Nearly every endpoint
 * has one of a few combinations, so those are one shared frozen object each instead of one
 * object per endpoint (a director caches every endpoint of every Service).
 */
const CONDITIONS = new Map<string, Readonly<Record<string, boolean>>>();
for (const ready of [undefined, true, false]) {
  for (const terminating of [undefined, true, false]) {
    const c: Record<string, boolean> = {};
    if (ready !== undefined) c.ready = ready;
    if (terminating !== undefined) c.terminating = terminating;
    CONDITIONS.set(`${ready}/${terminating}`, Object.freeze(c));
  }
}
const conditionFields = { ready: true, terminating: true } as const;
function sharedConditions(value: unknown): unknown {
  const picked = project(value, conditionFields);
  const r = asRecord(picked);
  if (r === undefined || Array.isArray(picked)) return picked;
  const { ready, terminating } = r;
  const ok = (v: unknown): v is boolean | undefined => v === undefined || typeof v === 'boolean';
  if (!ok(ready) || !ok(terminating)) return picked;
  // (key order of the shared object may differ from the original's; nothing quotes conditions)
  return CONDITIONS.get(`${ready}/${terminating}`) ?? picked;
}

const ENDPOINT_SLICE: Shape = {
  metadata: { ...IDENTITY, labels: keysStartingWith(SERVICE_NAME_LABEL) },
  addressType: true,
  ports: true,
  endpoints: [
    {
      addresses: true,
      conditions: sharedConditions,
      targetRef: { kind: true, namespace: true, name: true, uid: true },
    },
  ],
};

const POD: Shape = {
  metadata: IDENTITY,
  spec: { terminationGracePeriodSeconds: true },
};

function transform(shape: Shape): (object: KubernetesObject) => KubernetesObject {
  return (object) => project(object, shape) as KubernetesObject;
}

/** Cache transforms for a director (ipvs-controller): what buildServiceDesired reads, nothing more. */
export const desiredStateTransforms = {
  services: transform(SERVICE),
  endpointslices: transform(ENDPOINT_SLICE),
  pods: transform(POD),
} as const;
