import { cidrOwnership } from '@balanced/k8s';
import { PoolCatalog, parseAddress, poolContains } from '@balanced/vip-allocator';
import type { ClusterObjects } from './cluster-objects.js';
import { UsageError } from './errors.js';

export interface Ownership {
  readonly ownsVip: (ip: string) => boolean;
  /** How it was decided, for the output. */
  readonly basis: string;
}

/**
 * Which VIPs the director owns: --vip-cidr when given (as the controller's flag); else the
 * addresses of the VipPools in the source; else every address (a dry run with no pools).
 */
export function vipOwnership(cidrs: readonly string[], objects: ClusterObjects | undefined): Ownership {
  if (cidrs.length > 0) {
    try {
      return { ownsVip: cidrOwnership(cidrs), basis: `--vip-cidr ${cidrs.join(',')}` };
    } catch (e) {
      throw new UsageError(e instanceof Error ? e.message : String(e));
    }
  }
  const pools = new PoolCatalog().update(objects?.vipPools ?? []).pools;
  if (pools.length > 0) {
    return {
      ownsVip: (ip) => {
        const a = parseAddress(ip);
        return a !== undefined && pools.some((p) => poolContains(p, a));
      },
      basis: `VipPools ${pools.map((p) => p.name).join(',')}`,
    };
  }
  return { ownsVip: () => true, basis: 'every address (no --vip-cidr, no VipPool)' };
}
