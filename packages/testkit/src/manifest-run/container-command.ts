// The command lines that run a planned container the way a container runtime does (pure):
// in the pod's network namespace, in a private mount namespace (and a private PID and UTS
// namespace unless hostPID / hostNetwork), its root an overlay of the image tree (the image
// read-only below, the container's writes on a tmpfs above), /proc (with /proc/sys, /proc/bus,
// /proc/fs, /proc/irq and /proc/sysrq-trigger read-only unless privileged), /sys (read-only
// unless privileged), a minimal /dev (the host's unless privileged), the volume mounts, the root
// remounted read-only for readOnlyRootFilesystem; then chrooted, in its working directory, with
// exactly its environment, as its uid/gid with no supplementary groups and exactly its
// capabilities (setpriv: bounding set; uid 0 has it effective, other users have none of it,
// as Kubernetes sets no ambient or inheritable capabilities), no_new_privs when
// allowPrivilegeEscalation is false.
//
// Mount points are created and resolved inside the container's root (`chroot R realpath -m`),
// so an image's absolute symlink (Debian's /var/run -> /run) never leads a mount to the host.

import { shQuote } from '../vm/shell.js';
import { ManifestRunError, type ContainerPlan, type PodLaunchPlan } from './types.js';

/** Paths the launcher prepared for one container. */
export interface ContainerPaths {
  /** `/run/netns/<name>` (or any nsfs path) of the pod's network namespace. */
  readonly netns: string;
  /** An empty folder on a tmpfs: the overlay's upper and work folders and the root go here. */
  readonly stateDir: string;
  /** The host folder or file behind each volume (hostPath: its path; the others: what the launcher made). */
  readonly volumeSources: ReadonlyMap<string, string>;
  /** The pod's /etc/hosts and /etc/hostname (files the launcher wrote). */
  readonly hostsFile: string;
  readonly hostnameFile: string;
}

/** Mounts the runtime makes read-only in /proc of a non-privileged container (runc's readonlyPaths). */
export const PROC_READONLY = ['bus', 'fs', 'irq', 'sys', 'sysrq-trigger'] as const;
/** Device nodes a non-privileged container gets (bound from the host's). */
export const DEVICES = ['null', 'zero', 'full', 'random', 'urandom', 'tty'] as const;

function checkPath(path: string, what: string): string {
  if (!path.startsWith('/') || /[,:\n]/.test(path)) throw new ManifestRunError(`${what}: ${JSON.stringify(path)} must be absolute, without ',', ':' or newlines`);
  return path;
}

/** The setpriv + env part that starts a process as the container's user with its capabilities and environment. */
export function identityArgv(c: ContainerPlan, argv: readonly string[]): string[] {
  const caps = c.privileged ? [] : [`--bounding-set=${['-all', ...c.capabilities.map((x) => `+${x}`)].join(',')}`];
  return [
    '/usr/bin/env',
    '-i',
    ...c.env.map(([n, v]) => `${n}=${v}`),
    '/usr/bin/setpriv',
    `--reuid=${c.uid}`,
    `--regid=${c.gid}`,
    '--clear-groups',
    '--inh-caps=-all',
    '--ambient-caps=-all',
    ...caps,
    ...(c.noNewPrivileges ? ['--no-new-privs'] : []),
    '--',
    ...argv,
  ];
}

/** The shell script (run by /bin/sh -e in the new namespaces) that builds the root and execs the container. */
export function containerScript(pod: PodLaunchPlan, c: ContainerPlan, paths: ContainerPaths): string {
  const q = shQuote;
  const state = checkPath(paths.stateDir, 'state folder');
  const lower = checkPath(c.image.rootfs, `image ${c.image.image} rootfs`);
  const lines = [
    'set -eu',
    `S=${q(state)}`,
    'R="$S/root"',
    'mkdir -p "$S/upper" "$S/work" "$R"',
    `mount -t overlay overlay -o ${q(`lowerdir=${lower}`)},upperdir="$S/upper",workdir="$S/work" "$R"`,
    'mount --make-rprivate "$R"',
    // bindmount <source> <container path> <ro|rw> <propagation>: the mount point made and resolved inside the root
    'bindmount() {',
    '  t=$(chroot "$R" /usr/bin/realpath -m -- "$2")',
    '  if [ -d "$1" ]; then chroot "$R" /bin/mkdir -p -- "$t"; else chroot "$R" /bin/mkdir -p -- "$(dirname -- "$t")"; [ -e "$R$t" ] || chroot "$R" /usr/bin/touch -- "$t"; fi',
    '  mount --rbind -- "$1" "$R$t"',
    '  if [ "$3" = ro ]; then mount -o remount,bind,ro -- "$R$t"; fi',
    '  case $4 in HostToContainer) mount --make-rslave -- "$R$t" ;; Bidirectional) mount --make-rshared -- "$R$t" ;; *) mount --make-rprivate -- "$R$t" ;; esac',
    '}',
    'mount -t proc -o nosuid,nodev,noexec proc "$R/proc"',
  ];
  if (!c.privileged) {
    lines.push(
      `for p in ${PROC_READONLY.join(' ')}; do`,
      '  if [ -e "$R/proc/$p" ]; then mount --bind "$R/proc/$p" "$R/proc/$p"; mount -o remount,bind,ro "$R/proc/$p"; fi',
      'done',
      'mount -t sysfs -o nosuid,nodev,noexec,ro sysfs "$R/sys"',
      'mount -t tmpfs -o nosuid,mode=0755,size=65536k tmpfs "$R/dev"',
      `for d in ${DEVICES.join(' ')}; do touch "$R/dev/$d"; mount --bind "/dev/$d" "$R/dev/$d"; done`,
      'mkdir "$R/dev/shm" "$R/dev/pts"',
      'mount -t tmpfs -o nosuid,nodev,mode=1777 shm "$R/dev/shm"',
      'ln -s /proc/self/fd "$R/dev/fd"; ln -s /proc/self/fd/0 "$R/dev/stdin"; ln -s /proc/self/fd/1 "$R/dev/stdout"; ln -s /proc/self/fd/2 "$R/dev/stderr"',
    );
  } else {
    lines.push('mount -t sysfs -o nosuid,nodev,noexec sysfs "$R/sys"', 'mount --rbind /dev "$R/dev"');
  }
  if (!pod.hostNetwork) lines.push(`hostname ${q(pod.podName)}`);
  lines.push(`bindmount ${q(paths.hostsFile)} /etc/hosts rw None`, `bindmount ${q(paths.hostnameFile)} /etc/hostname rw None`);
  for (const m of c.mounts) {
    const source = paths.volumeSources.get(m.volume);
    if (source === undefined) throw new ManifestRunError(`container ${c.name}: no source prepared for volume ${m.volume}`);
    const full = m.subPath === '' ? source : `${source}/${m.subPath}`;
    lines.push(`bindmount ${q(full)} ${q(m.containerPath)} ${m.readOnly ? 'ro' : 'rw'} ${m.propagation}`);
  }
  if (c.readOnlyRootFilesystem) lines.push('mount -o remount,bind,ro "$R"');
  lines.push(`exec unshare --root="$R" --wd=${q(c.workingDir)} -- ${identityArgv(c, c.argv).map(q).join(' ')}`);
  return `${lines.join('\n')}\n`;
}

/** argv of the whole container start: enter the netns, new namespaces, the script. */
export function containerArgv(pod: PodLaunchPlan, c: ContainerPlan, paths: ContainerPaths): string[] {
  return [
    'nsenter',
    `--net=${paths.netns}`,
    '--',
    'unshare',
    '--mount',
    '--propagation=slave',
    ...(pod.hostNetwork ? [] : ['--uts']),
    // Its own PID namespace: the container's process is its init; if unshare dies it takes the tree along.
    ...(pod.hostPID ? [] : ['--pid', '--fork', '--kill-child=SIGKILL']),
    '--',
    '/bin/sh',
    '-c',
    containerScript(pod, c, paths),
  ];
}

/** argv that runs `command` inside a running container (its namespaces, root and identity): exec probes, preStop hooks. */
export function execInContainerArgv(pod: PodLaunchPlan, c: ContainerPlan, pid: number, command: readonly string[]): string[] {
  return [
    'nsenter',
    `--target=${pid}`,
    '--mount',
    '--net',
    ...(pod.hostNetwork ? [] : ['--uts']),
    ...(pod.hostPID ? [] : ['--pid']),
    '--root',
    '--wd',
    '--',
    ...identityArgv(c, command),
  ];
}
