// The pod-level cgroups of this node's pods, for LocalRedirectPolicy skip lists (the desired
// state's podCgroups), read from the cgroup hierarchy by a CgroupIndex. The desired state asks
// synchronously and never waits: a pod no walk has seen yet is not used as a redirect backend
// (it could be redirected to itself). After each pass, the pods asked for and not found start a
// walk (at most one per the index's minRescanMs); when it finds some, onFound() has the desired
// state read its LocalRedirectPolicies again. A pod still not found after a walk is reported
// once (its cgroup is not under the resolver's cgroup root: --cgroup is not the host's root).
import type { CgroupIndex } from './events/cgroup-index.js';
import type { PodCgroups } from './desired/index.js';

export interface PodCgroupLookupOptions {
  readonly cgroups: CgroupIndex;
  /** Some pod asked for was found: read the policies again (ResolverIndex.observeCgroups, then a pass). */
  readonly onFound: () => void;
  /** Pods asked for and still not found after a walk (each reported once). */
  readonly onMissing?: (uids: readonly string[]) => void;
  /** Delay before a walk that is not due yet. Default 1000 ms (CgroupIndex's default minRescanMs). */
  readonly retryMs?: number;
}

export class PodCgroupLookup {
  private readonly missing = new Set<string>();
  private readonly reported = new Set<string>();
  private pending: Promise<void> | undefined;
  private timer: { readonly handle: ReturnType<typeof setTimeout>; readonly cancel: () => void } | undefined;
  private closed = false;

  constructor(private readonly options: PodCgroupLookupOptions) {}

  /** The desired state's podCgroups. */
  readonly lookup: PodCgroups = (uid) => {
    const ids = this.options.cgroups.podCgroups(uid);
    if (ids === undefined) this.missing.add(uid);
    return ids;
  };

  /** Call after each snapshot: walks for the pods asked for and not found. Resolves when that walk is over (tests). */
  afterSnapshot(): Promise<void> {
    if (this.closed || this.missing.size === 0) return this.pending ?? Promise.resolve();
    this.pending ??= new Promise<void>((resolve) => {
      const run = (): void => {
        this.timer = undefined;
        void this.walk().finally(() => {
          this.pending = undefined;
          resolve();
        });
      };
      if (this.options.cgroups.walkDue()) run();
      else {
        const handle = setTimeout(run, this.options.retryMs ?? 1000);
        handle.unref?.();
        this.timer = {
          handle,
          cancel: () => {
            this.pending = undefined;
            resolve();
          },
        };
      }
    });
    return this.pending;
  }

  close(): void {
    this.closed = true;
    if (this.timer === undefined) return;
    clearTimeout(this.timer.handle);
    this.timer.cancel();
    this.timer = undefined;
  }

  private async walk(): Promise<void> {
    const wanted = [...this.missing];
    this.missing.clear();
    if (this.closed) return;
    await this.options.cgroups.refresh();
    if (this.closed) return;
    const found = wanted.filter((uid) => this.options.cgroups.podCgroups(uid) !== undefined);
    for (const uid of found) this.reported.delete(uid);
    if (found.length > 0) this.options.onFound();
    const still = wanted.filter((uid) => this.options.cgroups.podCgroups(uid) === undefined && !this.reported.has(uid));
    for (const uid of still) this.reported.add(uid);
    if (still.length > 0) this.options.onMissing?.(still);
  }
}
