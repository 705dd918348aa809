import { PoolCatalog, allocate, describeService, describeProblems, type AllocationPlan, type InvalidPool } from '@balanced/vip-allocator';
import type { ClusterObjects } from './cluster-objects.js';

export interface AllocatorDryRun {
  readonly plan: AllocationPlan;
  readonly invalidPools: readonly InvalidPool[];
}

/** The allocator's pass (its allocate over describeService and the pool catalog), without writing any status. */
export function allocatorPlan(objects: ClusterObjects, defaultClass: boolean): AllocatorDryRun {
  const catalog = new PoolCatalog().update(objects.vipPools);
  const plan = allocate({ services: objects.services.map((s) => describeService(s, { defaultClass })), pools: catalog.pools });
  return { plan, invalidPools: catalog.invalid };
}

export function describeInvalidPool(p: InvalidPool): string {
  return `VipPool ${p.name}: ${describeProblems(p.problems)}`;
}
