// Which pod and container a cgroup v2 directory belongs to, from the path the kubelet gives
// it. Pure. Both cgroup drivers, every runtime's scope naming:
//   cgroupfs: …/kubepods[/burstable|/besteffort]/pod<uid>/<container id>
//   systemd:  …/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod<uid with _>.slice/
//             cri-containerd-<id>.scope | crio-<id>.scope | docker-<id>.scope

/** Where a cgroup sits: in a pod (with its container when the path names one), or not. */
export type CgroupOwner =
  | { readonly kind: 'pod'; readonly podUid: string; readonly containerId?: string }
  | { readonly kind: 'host' };

const UID = /^(?:.*-)?pod([0-9a-f]{8}[-_][0-9a-f]{4}[-_][0-9a-f]{4}[-_][0-9a-f]{4}[-_][0-9a-f]{12})(?:\.slice)?$/;
/** A runtime scope or a bare id; conmon (CRI-O's monitor) is not the container. */
const CONTAINER = /^(?:(?:cri-containerd|containerd|crio|docker|cri-o)-)?([0-9a-f]{12,64})(?:\.scope)?$/;

/** The owner of a cgroup path (relative to any root: only the segments matter). */
export function cgroupOwner(path: string): CgroupOwner {
  const segments = path.split('/').filter((s) => s !== '');
  for (let i = 0; i < segments.length; i += 1) {
    const pod = UID.exec(segments[i]!);
    if (pod === null) continue;
    const podUid = pod[1]!.replaceAll('_', '-');
    const next = segments[i + 1];
    const container = next === undefined ? null : CONTAINER.exec(next);
    return container === null ? { kind: 'pod', podUid } : { kind: 'pod', podUid, containerId: container[1]! };
  }
  return { kind: 'host' };
}

/**
 * The pod UID when the path's last segment is a pod-level cgroup (`pod<uid>`,
 * `kubepods-burstable-pod<uid with _>.slice`): the cgroup every container of the pod sits
 * below. Undefined for anything else, containers and the pod's other children included.
 */
export function podCgroupUid(path: string): string | undefined {
  const segments = path.split('/').filter((s) => s !== '');
  const last = segments[segments.length - 1];
  const pod = last === undefined ? null : UID.exec(last);
  return pod === null ? undefined : pod[1]!.replaceAll('_', '-');
}

/** The id in a container status's containerID (`containerd://<id>`, `cri-o://<id>`, `docker://<id>`). */
export function containerIdOf(statusId: string): string {
  const at = statusId.indexOf('://');
  return at < 0 ? statusId : statusId.slice(at + 3);
}
