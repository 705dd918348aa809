import type { ServiceKey } from '@balanced/ipvs';

export interface ServiceBackoffOptions {
  /** First retry delay after a service's ops fail; doubles per failure up to max. */
  readonly minMs: number;
  readonly maxMs: number;
}

interface Failing {
  readonly key: ServiceKey;
  readonly failures: number;
  readonly dueAt: number;
}

/**
 * Per-service failure isolation (pure, time passed in): a virtual service whose ops the kernel
 * refuses waits out its own doubling backoff, while every other service keeps being planned
 * at event latency. A service that is not due yet is left out of passes; once due, it is
 * re-read (only it) and planned again.
 */
export class ServiceBackoff {
  private readonly failing = new Map<string, Failing>();

  constructor(private readonly options: ServiceBackoffOptions) {}

  /** The service's ops failed (again): its next try waits min·2^(n-1), capped. */
  fail(id: string, key: ServiceKey, now: number): void {
    const failures = (this.failing.get(id)?.failures ?? 0) + 1;
    const delay = Math.min(this.options.minMs * 2 ** Math.min(failures - 1, 30), this.options.maxMs);
    this.failing.set(id, { key, failures, dueAt: now + delay });
  }

  /** The service was planned and all its ops succeeded: forget its failures. */
  succeed(id: string): void {
    this.failing.delete(id);
  }

  /** Services still waiting out their backoff: passes leave them alone. */
  deferred(now: number): Set<string> {
    const out = new Set<string>();
    for (const [id, f] of this.failing) if (f.dueAt > now) out.add(id);
    return out;
  }

  /** Failing services whose backoff is over, with their keys (the pass re-reads and plans them). */
  due(now: number): Map<string, ServiceKey> {
    const out = new Map<string, ServiceKey>();
    for (const [id, f] of this.failing) if (f.dueAt <= now) out.set(id, f.key);
    return out;
  }

  /** Milliseconds until the next failing service is due (undefined: none failing). */
  nextDueIn(now: number): number | undefined {
    let next: number | undefined;
    for (const f of this.failing.values()) next = next === undefined ? f.dueAt : Math.min(next, f.dueAt);
    return next === undefined ? undefined : Math.max(0, next - now);
  }

  get size(): number {
    return this.failing.size;
  }

  /** Ids of the failing services (for logs and /readyz detail). */
  ids(): string[] {
    return [...this.failing.keys()].sort();
  }
}
