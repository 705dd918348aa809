// Pods on this node by UID, and their containers by runtime id, from the one cluster cache
// (its pods informer watches `spec.nodeName=<node>`). Rebuilt lazily: the cache marks it stale
// on a pod change, the next lookup after that re-indexes.
import type { V1Pod } from '@kubernetes/client-node';
import { containerIdOf } from './cgroup-paths.js';

export interface PodIdentity {
  readonly namespace: string;
  readonly name: string;
  /** Container name by runtime container id (init and ephemeral containers included). */
  readonly containers: ReadonlyMap<string, string>;
}

/** What the directory reads of the cluster cache. */
export interface PodSource {
  pods(): readonly V1Pod[];
}

export class PodDirectory {
  private byUid: Map<string, PodIdentity> | undefined;

  constructor(private readonly source: PodSource) {}

  /** Call when pods changed (cache.onChange for kind `pods`). */
  markStale(): void {
    this.byUid = undefined;
  }

  get(uid: string): PodIdentity | undefined {
    this.byUid ??= indexPods(this.source.pods());
    return this.byUid.get(uid);
  }
}

export function indexPods(pods: readonly V1Pod[]): Map<string, PodIdentity> {
  const out = new Map<string, PodIdentity>();
  for (const pod of pods) {
    const uid = pod.metadata?.uid;
    const name = pod.metadata?.name;
    if (uid === undefined || name === undefined) continue;
    const containers = new Map<string, string>();
    const s = pod.status;
    for (const c of [...(s?.containerStatuses ?? []), ...(s?.initContainerStatuses ?? []), ...(s?.ephemeralContainerStatuses ?? [])]) {
      if (c.containerID) containers.set(containerIdOf(c.containerID), c.name);
    }
    out.set(uid, { namespace: pod.metadata?.namespace ?? '', name, containers });
  }
  return out;
}
