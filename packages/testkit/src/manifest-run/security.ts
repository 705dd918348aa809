// A container's identity and privileges from its securityContext (and the pod's), as the
// kubelet and containerd apply them (pure).
//
// Capabilities: a container starts from the container runtime's default set — containerd's
// (and Docker's/CRI-O's before 1.18) 14 capabilities, DEFAULT_CAPABILITIES below — minus
// `drop` (ALL drops every one), plus `add` (ALL adds every one); privileged: all of them. That
// set is the bounding set; a uid 0 process has it as its effective set, a non-root process has
// none of it effective (Kubernetes sets no ambient capabilities, and containerd no inheritable
// ones), so a manifest that needs capabilities as non-root fails here as it would on a node.

import { optionalBoolean, optionalInteger, record, strings, type Fields } from './manifest.js';
import { ManifestRunError, type ImageConfig } from './types.js';

/** containerd's default capabilities (oci.DefaultCapabilities / defaultUnixCaps), Kubernetes names. */
export const DEFAULT_CAPABILITIES: readonly string[] = [
  'CHOWN',
  'DAC_OVERRIDE',
  'FSETID',
  'FOWNER',
  'MKNOD',
  'NET_RAW',
  'SETGID',
  'SETUID',
  'SETFCAP',
  'SETPCAP',
  'NET_BIND_SERVICE',
  'SYS_CHROOT',
  'KILL',
  'AUDIT_WRITE',
];

/** Every capability of Linux 6.1, Kubernetes names (CAP_ stripped), in kernel order. */
export const ALL_CAPABILITIES: readonly string[] = [
  'CHOWN', 'DAC_OVERRIDE', 'DAC_READ_SEARCH', 'FOWNER', 'FSETID', 'KILL', 'SETGID', 'SETUID', 'SETPCAP', 'LINUX_IMMUTABLE',
  'NET_BIND_SERVICE', 'NET_BROADCAST', 'NET_ADMIN', 'NET_RAW', 'IPC_LOCK', 'IPC_OWNER', 'SYS_MODULE', 'SYS_RAWIO', 'SYS_CHROOT',
  'SYS_PTRACE', 'SYS_PACCT', 'SYS_ADMIN', 'SYS_BOOT', 'SYS_NICE', 'SYS_RESOURCE', 'SYS_TIME', 'SYS_TTY_CONFIG', 'MKNOD', 'LEASE',
  'AUDIT_WRITE', 'AUDIT_CONTROL', 'SETFCAP', 'MAC_OVERRIDE', 'MAC_ADMIN', 'SYSLOG', 'WAKE_ALARM', 'BLOCK_SUSPEND', 'AUDIT_READ',
  'PERFMON', 'BPF', 'CHECKPOINT_RESTORE',
];

/** `NET_ADMIN` or `CAP_NET_ADMIN` → `NET_ADMIN`; throws on a name Linux does not have. */
export function capabilityName(name: string, where: string): string {
  const bare = name.toUpperCase().replace(/^CAP_/, '');
  if (bare !== 'ALL' && !ALL_CAPABILITIES.includes(bare)) throw new ManifestRunError(`${where}: unknown capability ${JSON.stringify(name)}`);
  return bare;
}

/** setpriv's (libcap-ng's) name of a capability: `NET_ADMIN` → `net_admin`. */
export function setprivCapability(name: string): string {
  return name.toLowerCase();
}

/** The container's capability set (Kubernetes names, kernel order). */
export function effectiveCapabilities(add: readonly string[], drop: readonly string[], privileged: boolean): string[] {
  if (privileged) return [...ALL_CAPABILITIES];
  const set = new Set(drop.includes('ALL') ? [] : DEFAULT_CAPABILITIES.filter((c) => !drop.includes(c)));
  for (const c of add.includes('ALL') ? ALL_CAPABILITIES : add) set.add(c);
  return ALL_CAPABILITIES.filter((c) => set.has(c));
}

export interface ContainerSecurity {
  readonly uid: number;
  readonly gid: number;
  readonly privileged: boolean;
  readonly capabilities: string[];
  readonly noNewPrivileges: boolean;
  readonly readOnlyRootFilesystem: boolean;
}

/** The primary group of `uid` in an /etc/passwd text, if listed. */
export function passwdGroup(passwd: string, uid: number): number | undefined {
  for (const line of passwd.split('\n')) {
    const f = line.split(':');
    if (f.length >= 4 && f[2] === String(uid) && /^\d+$/.test(f[3]!)) return Number(f[3]);
  }
  return undefined;
}

function parseImageUser(user: string, image: ImageConfig): { uid: number; gid?: number } {
  const m = /^(\d+)(?::(\d+))?$/.exec(user === '' ? '0' : user);
  if (m === null) throw new ManifestRunError(`image ${image.image}: user ${JSON.stringify(user)} is not numeric (uid[:gid])`);
  return { uid: Number(m[1]), ...(m[2] === undefined ? {} : { gid: Number(m[2]) }) };
}

/**
 * uid, gid and privileges of a container: the container's securityContext over the pod's
 * (runAsUser, runAsGroup, runAsNonRoot), the image's user where neither sets one. runAsNonRoot
 * with uid 0 is refused as the kubelet refuses it.
 */
export function containerSecurity(container: Fields, podSpec: Fields, image: ImageConfig, where: string): ContainerSecurity {
  const sc = record(container['securityContext'], `${where}.securityContext`);
  const psc = record(podSpec['securityContext'], 'spec.securityContext');
  const pick = (key: string): number | undefined => optionalInteger(sc[key], `${where}.securityContext.${key}`) ?? optionalInteger(psc[key], `spec.securityContext.${key}`);
  const imageUser = parseImageUser(image.user, image);
  const runAsUser = pick('runAsUser');
  const uid = runAsUser ?? imageUser.uid;
  const gid = pick('runAsGroup') ?? (runAsUser === undefined ? imageUser.gid : undefined) ?? passwdGroup(image.passwd, uid) ?? 0;
  const nonRoot = optionalBoolean(sc['runAsNonRoot'], `${where}.securityContext.runAsNonRoot`) ?? optionalBoolean(psc['runAsNonRoot'], 'spec.securityContext.runAsNonRoot') ?? false;
  if (nonRoot && uid === 0) {
    throw new ManifestRunError(`${where}: runAsNonRoot is set and the container would run as root (uid 0: ${runAsUser === undefined ? `image ${image.image}'s user` : 'runAsUser'})`);
  }
  const privileged = optionalBoolean(sc['privileged'], `${where}.securityContext.privileged`) ?? false;
  const caps = record(sc['capabilities'], `${where}.securityContext.capabilities`);
  const add = strings(caps['add'], `${where}.securityContext.capabilities.add`).map((c) => capabilityName(c, `${where}.securityContext.capabilities.add`));
  const drop = strings(caps['drop'], `${where}.securityContext.capabilities.drop`).map((c) => capabilityName(c, `${where}.securityContext.capabilities.drop`));
  const capabilities = effectiveCapabilities(add, drop, privileged);
  const allowEscalation = optionalBoolean(sc['allowPrivilegeEscalation'], `${where}.securityContext.allowPrivilegeEscalation`);
  if (allowEscalation === false && (privileged || capabilities.includes('SYS_ADMIN'))) {
    // The API server refuses this combination (validation of SecurityContext).
    throw new ManifestRunError(`${where}: allowPrivilegeEscalation: false cannot be set with privileged or CAP_SYS_ADMIN`);
  }
  return {
    uid,
    gid,
    privileged,
    capabilities,
    noNewPrivileges: allowEscalation === false,
    readOnlyRootFilesystem: optionalBoolean(sc['readOnlyRootFilesystem'], `${where}.securityContext.readOnlyRootFilesystem`) ?? false,
  };
}
