// What the pods informer keeps of each pod: enough to name a client from its cgroup.
import type { KubernetesObject } from '@kubernetes/client-node';
import { project, type ObjectTransform, type Shape } from '@balanced/k8s';

const CONTAINER_STATUS: Shape = [{ name: true, containerID: true }];

/** The pod fields events read (exported so that one pods cache can keep these and others: cache-fields.ts). */
export const POD_EVENT_SHAPE = {
  metadata: { name: true, namespace: true, uid: true, resourceVersion: true },
  status: { containerStatuses: CONTAINER_STATUS, initContainerStatuses: CONTAINER_STATUS, ephemeralContainerStatuses: CONTAINER_STATUS },
} as const satisfies Shape;

const POD: Shape = POD_EVENT_SHAPE;

/** Cache transform for the pods informer (events enrichment). */
export const podEventFields: ObjectTransform = (object: KubernetesObject) => project(object, POD) as KubernetesObject;

/** Field selector for this node's pods. */
export function podsOnNode(nodeName: string): string {
  return `spec.nodeName=${nodeName}`;
}
