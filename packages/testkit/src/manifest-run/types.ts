// What the manifest runner plans and launches: an image (its root filesystem folder and its
// runtime config, scripts/images/assemble.sh) and a pod's launch plan, derived from a workload
// in deploy/ as the kubelet and the container runtime would run it.

/** An image's runtime config as scripts/images/assemble.sh writes it (`<image>.json`). */
export interface ImageConfig {
  /** e.g. `ipvs-controller`. */
  readonly image: string;
  readonly version: string;
  /** Absolute folder of the image's root filesystem. */
  readonly rootfs: string;
  /** `uid:gid`. */
  readonly user: string;
  readonly workingDir: string;
  /** `NAME=value`, in order. */
  readonly env: readonly string[];
  readonly entrypoint: readonly string[];
  readonly cmd: readonly string[];
  /** The image's /etc/passwd (a runAsUser without runAsGroup takes that user's group). */
  readonly passwd: string;
}

/** The values the downward API (`fieldRef`) gives a pod. */
export interface PodFacts {
  /** metadata.name */
  readonly podName: string;
  /** metadata.namespace; default: the workload's. */
  readonly namespace?: string;
  /** metadata.uid */
  readonly uid?: string;
  /** spec.nodeName */
  readonly nodeName: string;
  /** status.podIP (the node's address with hostNetwork) */
  readonly podIP: string;
  /** status.hostIP */
  readonly hostIP: string;
}

export type HostPathType = '' | 'DirectoryOrCreate' | 'Directory' | 'FileOrCreate' | 'File' | 'Socket' | 'CharDevice' | 'BlockDevice';

/** A pod volume, as the launcher provides it. */
export type VolumePlan =
  | { readonly name: string; readonly kind: 'hostPath'; readonly path: string; readonly type: HostPathType }
  /** A fresh folder per pod, on a tmpfs, shared by the pod's containers. */
  | { readonly name: string; readonly kind: 'emptyDir' }
  /** configMap, secret, and the ServiceAccount token: files the launcher writes (always read-only). */
  | { readonly name: string; readonly kind: 'files'; readonly files: readonly FilePlan[]; readonly source: string };

export interface FilePlan {
  /** Relative path inside the volume. */
  readonly path: string;
  readonly content: string;
  readonly mode: number;
}

export type MountPropagation = 'None' | 'HostToContainer' | 'Bidirectional';

export interface MountPlan {
  readonly volume: string;
  /** Absolute path in the container. */
  readonly containerPath: string;
  readonly subPath: string;
  readonly readOnly: boolean;
  readonly propagation: MountPropagation;
}

export interface PortPlan {
  readonly name: string;
  readonly containerPort: number;
  readonly protocol: string;
}

export type ProbePlan = (
  | { readonly kind: 'http'; readonly host: string; readonly port: number; readonly path: string; readonly scheme: 'HTTP' | 'HTTPS' }
  | { readonly kind: 'tcp'; readonly host: string; readonly port: number }
  | { readonly kind: 'exec'; readonly command: readonly string[] }
) & {
  /** timeoutSeconds (default 1). */
  readonly timeoutSeconds: number;
  /** periodSeconds (default 10). */
  readonly periodSeconds: number;
  /** initialDelaySeconds (default 0). */
  readonly initialDelaySeconds: number;
};

export interface ContainerPlan {
  readonly name: string;
  readonly image: ImageConfig;
  /** The process: entrypoint/command + cmd/args, $(VAR) expanded. */
  readonly argv: readonly string[];
  /** The process environment, in order: the image's, then the manifest's (a name set twice: the later wins). */
  readonly env: readonly (readonly [string, string])[];
  readonly workingDir: string;
  readonly uid: number;
  readonly gid: number;
  /** privileged: every capability, /proc/sys and /sys writable, the host's /dev. */
  readonly privileged: boolean;
  /** Capabilities (setpriv names, e.g. `net_admin`) of the bounding set; for uid 0 also its effective set. */
  readonly capabilities: readonly string[];
  /** allowPrivilegeEscalation: false (setpriv --no-new-privs). */
  readonly noNewPrivileges: boolean;
  readonly readOnlyRootFilesystem: boolean;
  readonly mounts: readonly MountPlan[];
  readonly ports: readonly PortPlan[];
  readonly readinessProbe?: ProbePlan;
  readonly livenessProbe?: ProbePlan;
  /** lifecycle.preStop.exec.command */
  readonly preStop?: readonly string[];
}

export interface PodLaunchPlan {
  /** `<kind>/<namespace>/<name>` of the workload. */
  readonly workload: string;
  readonly podName: string;
  readonly namespace: string;
  readonly nodeName: string;
  readonly podIP: string;
  readonly serviceAccountName: string;
  readonly hostNetwork: boolean;
  readonly hostPID: boolean;
  readonly terminationGracePeriodSeconds: number;
  readonly volumes: readonly VolumePlan[];
  readonly initContainers: readonly ContainerPlan[];
  readonly containers: readonly ContainerPlan[];
}

/** A manifest that cannot run as written (the message names the field). */
export class ManifestRunError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ManifestRunError';
  }
}
