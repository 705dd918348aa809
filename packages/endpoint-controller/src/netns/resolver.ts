import type { PodRef } from '../pod-view.js';

/**
 * Finds a pod's network namespace. Pluggable: the CRI runtime service (default), a /proc scan
 * (fallback), a fixed map (lab, tests).
 */
export interface PodNetnsResolver {
  /** Shown in logs and errors, e.g. "cri unix:///run/containerd/containerd.sock". */
  readonly name: string;
  /**
   * A path that opens the pod's network namespace (e.g. /var/run/netns/cni-…, /proc/<pid>/ns/net),
   * or null when the pod has none right now (sandbox gone or not ready). Throws when it cannot
   * tell (runtime unreachable, unreadable /proc).
   */
  resolve(pod: PodRef): Promise<string | null>;
  close?(): void;
}

export class NetnsResolveError extends Error {
  override readonly name = 'NetnsResolveError';
  constructor(
    message: string,
    readonly failures: readonly { readonly resolver: string; readonly error: Error }[],
  ) {
    super(message);
  }
}

/**
 * Asks each resolver in turn and returns the first path found. Null when none found one and
 * at least one answered; throws (listing every failure) only when all of them failed.
 */
export class FirstFoundResolver implements PodNetnsResolver {
  readonly name: string;

  constructor(private readonly resolvers: readonly PodNetnsResolver[]) {
    this.name = resolvers.map((r) => r.name).join(', then ');
  }

  async resolve(pod: PodRef): Promise<string | null> {
    const failures: { resolver: string; error: Error }[] = [];
    for (const r of this.resolvers) {
      try {
        const path = await r.resolve(pod);
        if (path !== null) return path;
      } catch (e) {
        failures.push({ resolver: r.name, error: e instanceof Error ? e : new Error(String(e)) });
      }
    }
    if (failures.length > 0 && failures.length === this.resolvers.length) {
      throw new NetnsResolveError(`cannot find the network namespace of ${pod.namespace}/${pod.name}: ${failures.map((f) => `${f.resolver}: ${f.error.message}`).join('; ')}`, failures);
    }
    return null;
  }

  close(): void {
    for (const r of this.resolvers) r.close?.();
  }
}
