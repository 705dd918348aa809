// cgroup id → owner (pod/container or host). The id the BPF programs report
// (bpf_get_current_cgroup_id) is the inode number of the cgroup v2 directory, so the index
// is built by walking the hierarchy under a root and stat-ing each directory. An unknown id
// (a container started since the last walk) triggers another walk, at most one per
// `minRescanMs`; walks are asynchronous (fs.promises) and shared by concurrent callers.
// The same walk records each pod's pod-level cgroup(s) by pod UID (podCgroups: the ids a
// LocalRedirectPolicy's skip list holds).
import { opendir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { cgroupOwner, podCgroupUid, type CgroupOwner } from './cgroup-paths.js';

export interface CgroupIndexOptions {
  /** cgroup v2 directory to walk (the one the programs attach to: the host's root in production). */
  readonly root: string;
  /** Fewest milliseconds between two walks. Default 1000. */
  readonly minRescanMs?: number;
  /** Deepest directory level walked below the root. Default 8 (kubepods/…/pod/container is 4 or 5). */
  readonly maxDepth?: number;
  readonly now?: () => number;
}

const HOST: CgroupOwner = { kind: 'host' };

export class CgroupIndex {
  private owners = new Map<bigint, CgroupOwner>();
  /** Pod UID → its pod-level cgroup ids (ascending). */
  private pods = new Map<string, readonly bigint[]>();
  private lastWalk = Number.NEGATIVE_INFINITY;
  private walking: Promise<void> | undefined;
  private readonly minRescanMs: number;
  private readonly maxDepth: number;
  private readonly now: () => number;
  /** Walks done (diagnostics, tests). */
  walks = 0;

  constructor(private readonly options: CgroupIndexOptions) {
    this.minRescanMs = options.minRescanMs ?? 1000;
    this.maxDepth = options.maxDepth ?? 8;
    this.now = options.now ?? Date.now;
  }

  /** The owner if the id is known now (never waits). */
  get(id: bigint): CgroupOwner | undefined {
    return this.owners.get(id);
  }

  /** The pod-level cgroup ids of a pod (by UID) as of the last walk; undefined when none was seen. Never waits. */
  podCgroups(uid: string): readonly bigint[] | undefined {
    return this.pods.get(uid);
  }

  /** True when a walk may run now (none ran in the last `minRescanMs`, or one is running). */
  walkDue(): boolean {
    return this.now() - this.lastWalk >= this.minRescanMs || this.walking !== undefined;
  }

  /** True when any of `ids` is unknown and a walk may run now. */
  wantsWalk(ids: Iterable<bigint>): boolean {
    if (this.now() - this.lastWalk < this.minRescanMs && this.walking === undefined) return false;
    for (const id of ids) if (!this.owners.has(id)) return true;
    return false;
  }

  /** Walks the hierarchy again (joins a walk in progress). Never rejects: unreadable parts are skipped. */
  refresh(): Promise<void> {
    this.walking ??= this.walk().finally(() => {
      this.walking = undefined;
    });
    return this.walking;
  }

  /** The owner of an id, walking again first when it is unknown and a walk is due; unknown ⇒ host. */
  async resolve(id: bigint): Promise<CgroupOwner> {
    if (this.wantsWalk([id])) await this.refresh();
    return this.owners.get(id) ?? HOST;
  }

  private async walk(): Promise<void> {
    this.lastWalk = this.now();
    const found = new Map<bigint, CgroupOwner>();
    const pods = new Map<string, bigint[]>();
    const visit = async (dir: string, relative: string, depth: number): Promise<void> => {
      try {
        const st = await stat(dir, { bigint: true });
        found.set(st.ino, cgroupOwner(relative));
        const uid = podCgroupUid(relative);
        if (uid !== undefined) pods.set(uid, [...(pods.get(uid) ?? []), st.ino].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)));
      } catch {
        return; // removed meanwhile
      }
      if (depth >= this.maxDepth) return;
      let entries;
      try {
        entries = await opendir(dir);
      } catch {
        return;
      }
      const children: string[] = [];
      try {
        for await (const e of entries) if (e.isDirectory()) children.push(e.name);
      } catch {
        // removed while reading
      }
      for (const name of children) await visit(join(dir, name), `${relative}/${name}`, depth + 1);
    };
    await visit(this.options.root, '', 0);
    this.owners = found;
    this.pods = pods;
    this.walks += 1;
  }
}
