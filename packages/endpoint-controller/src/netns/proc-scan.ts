import { readdir, readFile, readlink } from 'node:fs/promises';
import type { PodRef } from '../pod-view.js';
import type { PodNetnsResolver } from './resolver.js';

/**
 * Pure: whether a /proc/<pid>/cgroup text places the process in the pod's cgroup. Kubelet
 * names it `pod<uid>` with the cgroupfs driver (…/kubepods/burstable/pod<uid>/…) and
 * `…-pod<uid with _ for ->.slice` with the systemd driver
 * (…/kubepods-burstable.slice/kubepods-burstable-pod<uid_>.slice/…).
 */
export function cgroupMentionsPod(cgroup: string, uid: string): boolean {
  const dashed = uid.trim().toLowerCase();
  if (dashed === '' || !/^[0-9a-f_-]+$/.test(dashed)) return false;
  const under = dashed.replaceAll('-', '_');
  const names = new Set([`pod${dashed}`, `pod${under}`]);
  for (const line of cgroup.split('\n')) {
    // "hierarchy-ID:controller-list:cgroup-path"; the path may itself contain ':'.
    const first = line.indexOf(':');
    const second = first < 0 ? -1 : line.indexOf(':', first + 1);
    if (second < 0) continue;
    for (const segment of line.slice(second + 1).toLowerCase().split('/')) {
      const base = segment.endsWith('.slice') ? segment.slice(0, -'.slice'.length) : segment;
      if (names.has(base)) return true;
      for (const n of names) if (base.endsWith(`-${n}`)) return true;
    }
  }
  return false;
}

export interface ProcScanOptions {
  /** Where the host's /proc is (default /proc; a fake tree in tests). */
  readonly procRoot?: string;
  /** Files read at once. Default 64. */
  readonly concurrency?: number;
}

/**
 * The fallback resolver: scans /proc for a process in the pod's cgroup and uses its network
 * namespace. Needs the host's PID namespace (hostPID) or its /proc mounted. When the pod's
 * processes disagree (one moved elsewhere), the namespace most of them share wins, then the
 * lowest PID.
 */
export class ProcScanResolver implements PodNetnsResolver {
  readonly name: string;
  private readonly root: string;
  private readonly concurrency: number;

  constructor(options: ProcScanOptions = {}) {
    this.root = options.procRoot ?? '/proc';
    this.concurrency = options.concurrency ?? 64;
    this.name = `proc scan ${this.root}`;
  }

  async resolve(pod: PodRef): Promise<string | null> {
    if (pod.uid === '') return null;
    const pids = (await readdir(this.root)).filter((n) => /^[1-9][0-9]*$/.test(n)).map(Number).sort((a, b) => a - b);
    const matches: number[] = [];
    for (let i = 0; i < pids.length; i += this.concurrency) {
      const batch = pids.slice(i, i + this.concurrency);
      const texts = await Promise.all(batch.map((pid) => readFile(`${this.root}/${pid}/cgroup`, 'utf8').catch(() => '')));
      batch.forEach((pid, j) => {
        if (cgroupMentionsPod(texts[j] ?? '', pod.uid)) matches.push(pid);
      });
    }
    // Group by namespace identity ("net:[inode]"); a process that exited meanwhile drops out.
    const groups = new Map<string, number[]>();
    for (const pid of matches) {
      const id = await readlink(`${this.root}/${pid}/ns/net`).catch(() => undefined);
      if (id === undefined) continue;
      const g = groups.get(id) ?? [];
      g.push(pid);
      groups.set(id, g);
    }
    let best: number[] | undefined;
    for (const g of groups.values()) {
      if (best === undefined || g.length > best.length || (g.length === best.length && (g[0] ?? 0) < (best[0] ?? 0))) best = g;
    }
    return best?.[0] === undefined ? null : `${this.root}/${best[0]}/ns/net`;
  }
}
