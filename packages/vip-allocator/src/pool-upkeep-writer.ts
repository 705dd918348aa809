// The leader's upkeep of the VipPools (vipPoolUpkeep of @balanced/k8s, vippool-upkeep.ts): it
// records each pool's valid spec.cidrs on the pool, so that every director and announcer keeps a
// pool's ranges across restarts when the spec turns invalid, and it holds a finalizer on every
// pool, removed from a pool being deleted only once no Service's status holds an address from it.
// Each write is a JSON merge patch guarded by the pool's resourceVersion: a 409 (the pool changed
// meanwhile) or a 404 (gone) waits for the next pass, which the pool's watch event schedules.
// Needs RBAC `patch` on vippools.

import { ApiException, CustomObjectsApi, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import type { KubeConfig, V1Service } from '@kubernetes/client-node';
import { vipPoolUpkeep, type HeldAddress, type VipPoolUpkeep } from '@balanced/k8s';
import { canonicalIp } from '@balanced/net';

import { VIPPOOL_GROUP, VIPPOOL_PLURAL, VIPPOOL_VERSION } from './pool.js';
import { asArray, asString, prop } from './read.js';

export interface PoolUpkeepResult {
  /** Patches the API server took. */
  readonly written: readonly VipPoolUpkeep[];
  /** Pools being deleted that stay while Services hold addresses from them (heldBy says which). */
  readonly waiting: readonly VipPoolUpkeep[];
  /** Writes that failed other than by a 409 or 404 race, with why. */
  readonly failed: readonly { readonly pool: string; readonly message: string }[];
}

/** Every address in the Services' status.loadBalancer.ingress, with its Service. */
export function heldAddresses(services: readonly V1Service[]): HeldAddress[] {
  const held: HeldAddress[] = [];
  for (const s of services) {
    const by = `${asString(prop(prop(s, 'metadata'), 'namespace')) ?? ''}/${asString(prop(prop(s, 'metadata'), 'name')) ?? ''}`;
    for (const entry of asArray(prop(prop(prop(s, 'status'), 'loadBalancer'), 'ingress'))) {
      const ip = asString(prop(entry, 'ip'));
      if (ip !== undefined && ip !== '') held.push({ ip: canonicalIp(ip) ?? ip, by });
    }
  }
  return held;
}

export class PoolUpkeepWriter {
  private readonly api: CustomObjectsApi;

  constructor(kc: KubeConfig) {
    this.api = kc.makeApiClient(CustomObjectsApi);
  }

  /**
   * Brings every pool up to date. `services` must be every Service as the leader knows them (a
   * synced cache): an address missing from them could let a pool in use go.
   */
  async apply(pools: readonly unknown[], services: readonly V1Service[]): Promise<PoolUpkeepResult> {
    const held = heldAddresses(services);
    const written: VipPoolUpkeep[] = [];
    const waiting: VipPoolUpkeep[] = [];
    const failed: { pool: string; message: string }[] = [];
    for (const pool of pools) {
      const upkeep = vipPoolUpkeep(pool, held);
      if (upkeep === undefined) continue;
      if (upkeep.finalizer === 'kept') waiting.push(upkeep);
      if (upkeep.patch === undefined) continue;
      try {
        await this.api.patchClusterCustomObject(
          { group: VIPPOOL_GROUP, version: VIPPOOL_VERSION, plural: VIPPOOL_PLURAL, name: upkeep.name, body: upkeep.patch },
          setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
        );
        written.push(upkeep);
      } catch (err) {
        if (err instanceof ApiException && (err.code === 409 || err.code === 404)) continue; // changed or gone meanwhile
        failed.push({ pool: upkeep.name, message: err instanceof ApiException ? `HTTP ${err.code}` : err instanceof Error ? err.message : String(err) });
      }
    }
    return { written, waiting, failed };
  }
}
