// PoolUpkeepWriter against the test API server enforcing RBAC from deploy/*.yaml: the allocator's
// ServiceAccount may record a pool's cidrs and hold its finalizer (the announcer's may not), and
// a pool being deleted goes only once no Service's status holds an address from it.

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { CustomObjectsApi, type V1Service } from '@kubernetes/client-node';
import { ADDRESSES_IN_USE_FINALIZER, LAST_VALID_CIDRS_ANNOTATION } from '@balanced/k8s';
import { TestApiServer, readDeployDocuments } from '@balanced/testkit';

import { PoolUpkeepWriter } from '../src/pool-upkeep-writer.js';
import { VIPPOOL_CRD } from './harness.js';

const NS = 'balanced-system';
let server: TestApiServer;

beforeAll(async () => {
  server = await TestApiServer.start({ rbac: true, customResources: [VIPPOOL_CRD] });
  server.load(readDeployDocuments());
});
afterAll(async () => {
  await server.stop();
});

type StoredPool = { metadata: { finalizers?: string[]; annotations?: Record<string, string>; deletionTimestamp?: string } } | undefined;
const stored = (name: string): StoredPool => server.store.get('vippools', name) as StoredPool;
const service = (name: string, ip: string): V1Service => ({ metadata: { name, namespace: 'default' }, status: { loadBalancer: { ingress: [{ ip }] } } });

describe('PoolUpkeepWriter', () => {
  it("the allocator's ServiceAccount records the cidrs and adds the finalizer; the announcer's is refused", async () => {
    server.store.put('vippools', { apiVersion: 'balanced.dev/v1alpha1', kind: 'VipPool', metadata: { name: 'gold' }, spec: { cidrs: ['10.97.0.0/30'] } });
    const refused = await new PoolUpkeepWriter(server.serviceAccountKubeConfig(NS, 'balanced-vip-announcer')).apply(server.store.list('vippools'), []);
    expect(refused.failed).toEqual([{ pool: 'gold', message: 'HTTP 403' }]);
    const result = await new PoolUpkeepWriter(server.serviceAccountKubeConfig(NS, 'balanced-vip-allocator')).apply(server.store.list('vippools'), []);
    expect(result).toMatchObject({ failed: [], waiting: [], written: [{ name: 'gold', finalizer: 'added', recorded: true }] });
    expect(stored('gold')?.metadata).toMatchObject({ finalizers: [ADDRESSES_IN_USE_FINALIZER], annotations: { [LAST_VALID_CIDRS_ANNOTATION]: '["10.97.0.0/30"]' } });
  });

  it('a pool being deleted stays while a Service holds one of its addresses, and goes after', async () => {
    const writer = new PoolUpkeepWriter(server.serviceAccountKubeConfig(NS, 'balanced-vip-allocator'));
    await server.kubeConfig().makeApiClient(CustomObjectsApi).deleteClusterCustomObject({ group: 'balanced.dev', version: 'v1alpha1', plural: 'vippools', name: 'gold' });
    expect(stored('gold')?.metadata.deletionTimestamp).toBeDefined();
    const held = await writer.apply(server.store.list('vippools'), [service('a', '10.97.0.1'), service('c', '10.96.0.1')]);
    expect(held).toMatchObject({ written: [], failed: [], waiting: [{ name: 'gold', finalizer: 'kept', heldBy: ['default/a'] }] });
    expect(stored('gold')).toBeDefined();
    const free = await writer.apply(server.store.list('vippools'), [service('c', '10.96.0.1')]);
    expect(free).toMatchObject({ written: [{ name: 'gold', finalizer: 'removed' }], failed: [], waiting: [] });
    expect(stored('gold')).toBeUndefined();
  });
});
