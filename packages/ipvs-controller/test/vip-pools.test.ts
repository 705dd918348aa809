// Issue 14: the director reads its VIP ranges from the VipPools, no --vip-cidr. The real path
// as app.ts wires it: client-node informers against the test API server (VipPools included),
// the VipRangeWatch of @balanced/k8s answering ownership, and the DesiredIndex rebuilt when
// the ranges change.

import { afterEach, beforeEach, expect, it } from '@jest/globals';
import { TestApiServer } from '@balanced/testkit';
import { createClusterCache, desiredStateTransforms, VipRangeWatch, type CacheLog, type ClusterCache } from '@balanced/k8s';
import { DesiredIndex, serviceOwnership } from '../src/index.js';

const VIPPOOL_CRD = { group: 'balanced.dev', version: 'v1alpha1', plural: 'vippools', kind: 'VipPool', namespaced: false } as const;
const quiet: CacheLog = { warn: () => undefined, info: () => undefined };
let api: TestApiServer;
const caches: ClusterCache[] = [];

beforeEach(async () => {
  api = await TestApiServer.start({ customResources: [VIPPOOL_CRD] });
});
afterEach(async () => {
  for (const c of caches.splice(0)) await c.stop();
  await api.stop();
});

async function waitFor(check: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 4000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const web = {
  metadata: { name: 'web', namespace: 'default', creationTimestamp: '2025-01-01T00:00:00Z' },
  spec: { type: 'LoadBalancer', loadBalancerClass: 'balanced.dev/ipvs', ports: [{ name: 'http', port: 80, protocol: 'TCP' }] },
  status: { loadBalancer: { ingress: [{ ip: '10.96.100.10' }] } },
};
const slice = {
  metadata: { name: 'web-1', namespace: 'default', labels: { 'kubernetes.io/service-name': 'web' } },
  addressType: 'IPv4',
  ports: [{ name: 'http', port: 80, protocol: 'TCP' }],
  endpoints: [{ addresses: ['10.0.0.1'], conditions: { ready: true } }],
};
const pool = (cidrs: string[]): object => ({ apiVersion: 'balanced.dev/v1alpha1', kind: 'VipPool', metadata: { name: 'default' }, spec: { cidrs } });

it('programs a VIP from a VipPool with no --vip-cidr; follows the pool as it changes (an invalid version keeps the last valid ranges)', async () => {
  api.store.put('services', web);
  api.store.put('endpointslices', slice);

  const cache = createClusterCache(api.kubeConfig(), { kinds: ['services', 'endpointslices', 'pods', 'vippools'], transform: desiredStateTransforms, restartDelayMs: { min: 20, max: 100 }, log: quiet });
  caches.push(cache);
  let rebuilds = 0;
  const index: DesiredIndex = new DesiredIndex({ cluster: cache, ownsVip: (ip) => ranges.owns(ip), defaultClass: false, defaultDrainSeconds: 30 });
  const ranges = new VipRangeWatch(cache, {
    onChange: () => {
      rebuilds++;
      index.ownershipChanged();
    },
  });
  cache.onChange((kind, change) => index.observe(kind, change));
  await cache.start();

  const programmed = (): string[] => [...index.snapshot().services.values()].map((s) => `${'address' in s.spec.key ? `${s.spec.key.address}:${s.spec.key.port}` : 'fwmark'} → ${s.destinations.map((d) => d.address).join(',')}`);
  expect(programmed()).toEqual([]); // no pool: the VIP is nobody's
  expect(serviceOwnership(ranges.owns)({ protocol: 'tcp', address: '10.96.100.10', port: 80 })).toBe(false);

  api.store.put('vippools', pool(['10.96.100.0/24']));
  await waitFor(() => ranges.owns('10.96.100.10'), 'the pool read');
  expect(programmed()).toEqual(['10.96.100.10:80 → 10.0.0.1']);
  expect(serviceOwnership(ranges.owns)({ protocol: 'tcp', address: '10.96.100.10', port: 80 })).toBe(true); // the kernel's copy is ours too

  // A typo in the pool: its last valid ranges stay (as the vip-allocator keeps them).
  const before = rebuilds;
  api.store.put('vippools', pool(['10.96.100.1/24'])); // same name: the store keeps its uid
  await waitFor(() => ranges.current.invalid.length === 1, 'the invalid version read');
  expect(rebuilds).toBe(before);
  expect(programmed()).toEqual(['10.96.100.10:80 → 10.0.0.1']);

  // The pool moved elsewhere: the VIP is no longer ours.
  api.store.put('vippools', pool(['10.96.200.0/24']));
  await waitFor(() => !ranges.owns('10.96.100.10'), 'the pool moved');
  expect(programmed()).toEqual([]);
});
