// The network namespaces of this host's processes other than ours: where the socket
// iterators must also run (pods, `ip netns` users, containers).
//
// Not the endpoint-controller's ProcScanResolver (@balanced/endpoint-controller): that one
// finds ONE pod's namespace by matching /proc/<pid>/cgroup against the pod's uid, async;
// here every distinct namespace is wanted, with no pod in mind, synchronously (the
// terminator walks them in one synchronous pass). Both share only "read /proc/<pid>/ns/net".
import { readdirSync, statSync } from 'node:fs';

/** A namespace's identity: nsfs device and inode of its /proc/<pid>/ns/net. */
export interface NetnsId {
  readonly dev: bigint;
  readonly ino: bigint;
}

/** One process's namespace as read from /proc. */
export interface ProcessNetns extends NetnsId {
  readonly pid: number;
}

/**
 * Pure: one entry per distinct namespace (the lowest pid's), ours excluded, as
 * `<procRoot>/<pid>/ns/net`, ordered by that pid.
 */
export function distinctNamespaces(processes: readonly ProcessNetns[], own: NetnsId, procRoot = '/proc'): string[] {
  const lowest = new Map<string, number>();
  for (const p of processes) {
    if (p.dev === own.dev && p.ino === own.ino) continue;
    const id = `${p.dev}:${p.ino}`;
    const seen = lowest.get(id);
    if (seen === undefined || p.pid < seen) lowest.set(id, p.pid);
  }
  return [...lowest.values()].sort((a, b) => a - b).map((pid) => `${procRoot}/${pid}/ns/net`);
}

export interface ListNamespacesOptions {
  /** Where the host's /proc is (default /proc; needs the host's PID namespace). */
  readonly procRoot?: string;
}

/**
 * The network namespaces of processes on this host other than ours: one
 * `<procRoot>/<pid>/ns/net` path per namespace. Processes that exit or cannot be read
 * meanwhile are skipped. Synchronous: a /proc scan of a few thousand pids takes
 * milliseconds.
 */
export function listOtherNetworkNamespaces(options: ListNamespacesOptions = {}): string[] {
  const procRoot = options.procRoot ?? '/proc';
  const own = statSync('/proc/thread-self/ns/net', { bigint: true });
  const processes: ProcessNetns[] = [];
  for (const name of readdirSync(procRoot)) {
    if (!/^[1-9][0-9]*$/.test(name)) continue;
    try {
      const st = statSync(`${procRoot}/${name}/ns/net`, { bigint: true });
      processes.push({ pid: Number(name), dev: st.dev, ino: st.ino });
    } catch {
      // exited, or a kernel thread / another user's process we may not read
    }
  }
  return distinctNamespaces(processes, { dev: own.dev, ino: own.ino }, procRoot);
}
