// What the announcer reads from an EndpointSlice: whether each endpoint *serves*, not whether
// it takes new connections. A terminating pod that still serves carries draining connections
// (the director keeps its destination at weight 0 so they keep flowing); withdrawing the VIP
// while one exists would cut them off at the router. So for the announcer an endpoint counts
// while `conditions.serving` is true; when `serving` is absent (an older producer) it defers to
// `ready`, and an absent `ready` means ready (EndpointConditions in the discovery/v1 API).
//
// The view rewrites each endpoint's conditions to { ready: serves, terminating: false } before
// the cache keeps it, so the one desired-state builder (buildServiceDesired, shared with the
// ipvs-controller) decides everything else (ports, families, conflicts) and a destination has
// weight 1 exactly when its endpoint serves.
import type { KubernetesObject } from '@kubernetes/client-node';
import { asArray, asBoolean, asRecord, desiredStateTransforms, prop, type ObjectTransform } from '@balanced/k8s';

const SERVES = Object.freeze({ ready: true, terminating: false });
const DOES_NOT_SERVE = Object.freeze({ ready: false, terminating: false });

/** Pure: the endpoint serves (serving, else ready, else true). */
export function endpointServes(conditions: unknown): boolean {
  return asBoolean(prop(conditions, 'serving')) ?? asBoolean(prop(conditions, 'ready')) ?? true;
}

/** Pure: the slice with every endpoint's conditions replaced by whether it serves; anything malformed is left as it is. */
export function servingView(slice: KubernetesObject): KubernetesObject {
  const endpoints = prop(slice, 'endpoints');
  if (!Array.isArray(endpoints)) return slice;
  return {
    ...slice,
    endpoints: asArray(endpoints).map((e) => {
      const r = asRecord(e);
      if (r === undefined || Array.isArray(e)) return e;
      return { ...r, conditions: endpointServes(prop(e, 'conditions')) ? SERVES : DOES_NOT_SERVE };
    }),
  } as KubernetesObject;
}

/** The announcer's cache transforms: the director's projections, slices seen through servingView. */
export const announcerTransforms: { readonly services: ObjectTransform; readonly endpointslices: ObjectTransform } = {
  services: desiredStateTransforms.services,
  endpointslices: (slice) => desiredStateTransforms.endpointslices(servingView(slice)),
};
