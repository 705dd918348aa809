// The pools to plan with, from the VipPool objects the watch holds. A pool whose spec turns
// invalid keeps its last valid version (same uid): a typo in a CIDR must not release every
// address of the pool. A pool that was never valid (by this process: e.g. it turned invalid
// before a restart) is not used; the addresses Services hold from it are still kept, by
// allocate's rule 5 (an address in no valid pool is never released for that reason).
// A pool being deleted (held Terminating by the allocator's finalizer while Services hold
// addresses from it: @balanced/k8s vippool-upkeep.ts) is not planned with: it hands out no new
// address, and the addresses Services hold from it are kept by the same rule 5.

import { isTerminating } from '@balanced/k8s';
import type { PoolProblem, VipPool } from './pool.js';
import { parseVipPool } from './pool.js';

export interface InvalidPool {
  readonly name: string;
  readonly uid: string | undefined;
  readonly problems: readonly PoolProblem[];
  /** The last valid version is still used. */
  readonly keptLastValid: boolean;
}

export interface PoolCatalogSnapshot {
  readonly pools: readonly VipPool[];
  readonly invalid: readonly InvalidPool[];
}

export class PoolCatalog {
  /** uid (or name) → last valid version. */
  private lastValid = new Map<string, VipPool>();

  update(objects: readonly unknown[]): PoolCatalogSnapshot {
    const pools: VipPool[] = [];
    const invalid: InvalidPool[] = [];
    const next = new Map<string, VipPool>();
    for (const object of objects) {
      if (isTerminating(object)) continue;
      const parsed = parseVipPool(object);
      if (parsed.ok) {
        next.set(parsed.pool.uid ?? parsed.pool.name, parsed.pool);
        pools.push(parsed.pool);
        continue;
      }
      const previous = this.lastValid.get(parsed.uid ?? parsed.name);
      if (previous !== undefined) {
        next.set(parsed.uid ?? parsed.name, previous);
        pools.push(previous);
      }
      invalid.push({ name: parsed.name, uid: parsed.uid, problems: parsed.problems, keptLastValid: previous !== undefined });
    }
    this.lastValid = next;
    pools.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    return { pools, invalid };
  }
}
