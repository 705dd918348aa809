// What the pods informer keeps of each pod: enough to name a client from its cgroup.
import type { KubernetesObject } from '@kubernetes/client-node';
import { project, type ObjectTransform, type Shape } from '@balanced/k8s';

const CONTAINER_STATUS: Shape = [{ name: true, containerID: true }];

const POD: Shape = {
  metadata: { name: true, namespace: true, uid: true, resourceVersion: true },
  status: { containerStatuses: CONTAINER_STATUS, initContainerStatuses: CONTAINER_STATUS, ephemeralContainerStatuses: CONTAINER_STATUS },
};

/** Cache transform for the pods informer (events enrichment). */
export const podEventFields: ObjectTransform = (object: KubernetesObject) => project(object, POD) as KubernetesObject;

/** Field selector for this node's pods. */
export function podsOnNode(nodeName: string): string {
  return `spec.nodeName=${nodeName}`;
}
