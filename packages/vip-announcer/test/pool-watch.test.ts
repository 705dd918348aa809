import { afterEach, describe, expect, test } from '@jest/globals';
import { TestApiServer } from '@balanced/testkit';
import { createClusterCache, type CacheLog, type ClusterCache } from '@balanced/k8s';
import { vipPool } from './k8s-objects.js';

const VIPPOOL_CRD = { group: 'balanced.dev', version: 'v1alpha1', plural: 'vippools', kind: 'VipPool', namespaced: false } as const;
const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

async function until(check: () => boolean, what: () => string): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what()}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

const quiet: CacheLog = { warn: () => undefined, info: () => undefined };

function names(w: ClusterCache): string[] {
  return w
    .vipPools()
    .map((o) => (o as { metadata: { name: string } }).metadata.name)
    .sort();
}

describe('VipPools in the cluster cache', () => {
  test('lists, then follows adds, updates and deletes', async () => {
    const api = await TestApiServer.start({ customResources: [VIPPOOL_CRD] });
    cleanup.push(() => api.stop());
    api.store.put('vippools', vipPool('gold', ['10.96.100.0/24'], ['65000:1']));
    const w = createClusterCache(api.kubeConfig(), { kinds: ['vippools'], log: quiet });
    cleanup.push(() => w.stop());
    let changes = 0;
    w.onChange(() => changes++);
    w.start().catch(() => undefined);
    await until(() => w.synced(), () => `a list (error: ${w.lastError('vippools')?.message})`);
    expect(names(w)).toEqual(['gold']);
    api.store.put('vippools', vipPool('silver', ['10.96.101.0/24']));
    await until(() => names(w).includes('silver'), () => `silver in ${names(w).join(',')}`);
    api.store.put('vippools', vipPool('gold', ['10.96.100.0/24'], ['65000:2']));
    await until(() => JSON.stringify(w.vipPools()).includes('65000:2'), () => 'the update');
    api.store.delete('vippools', 'silver');
    await until(() => names(w).join(',') === 'gold', () => `only gold in ${names(w).join(',')}`);
    expect(changes).toBeGreaterThanOrEqual(4);
  });

  test('no VipPool CRD: not synced, and lastError says why', async () => {
    const api = await TestApiServer.start();
    cleanup.push(() => api.stop());
    const w = createClusterCache(api.kubeConfig(), { kinds: ['vippools'], restartDelayMs: { min: 20, max: 50 }, log: quiet });
    cleanup.push(() => w.stop());
    w.start().catch(() => undefined);
    await until(() => w.lastError('vippools') !== undefined, () => 'an error');
    expect(w.synced()).toBe(false);
    expect(w.lastError('vippools')?.message).toMatch(/404/);
    expect(w.readiness()).toMatchObject({ ok: false, detail: expect.stringMatching(/vippools not listed yet \(HTTP 404/) });
  });
});
