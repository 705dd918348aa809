// Custom resources registered at start, through CustomObjectsApi and an informer.

import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { CustomObjectsApi, PatchStrategy, makeInformer, setHeaderOptions } from '@kubernetes/client-node';
import type { KubernetesObject, KubernetesListObject } from '@kubernetes/client-node';

import { TestApiServer } from '../../src/apiserver/index.js';
import { failure, waitFor } from './support.js';

const VIPPOOLS = { group: 'balanced.dev', version: 'v1alpha1', plural: 'vippools' };
let server: TestApiServer;
let custom: CustomObjectsApi;

beforeAll(async () => {
  server = await TestApiServer.start({
    customResources: [
      { ...VIPPOOLS, kind: 'VipPool', namespaced: false },
      { group: 'balanced.dev', version: 'v1alpha1', plural: 'balancingpolicies', kind: 'BalancingPolicy', namespaced: true },
    ],
  });
  custom = server.kubeConfig().makeApiClient(CustomObjectsApi);
});
afterAll(async () => {
  await server.stop();
});

const pool = (name: string, cidr: string): object => ({
  apiVersion: 'balanced.dev/v1alpha1',
  kind: 'VipPool',
  metadata: { name },
  spec: { cidrs: [cidr], autoAssign: true },
});

test('cluster-scoped CRD: create, get, list with kind on items, status subresource, delete', async () => {
  const created = (await custom.createClusterCustomObject({ ...VIPPOOLS, body: pool('pool-a', '192.0.2.0/28') })) as KubernetesObject;
  expect(created.metadata?.uid).toBeDefined();
  expect((await failure(custom.createClusterCustomObject({ ...VIPPOOLS, body: pool('pool-a', '192.0.2.0/28') }))).code).toBe(409);

  const status = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
  await custom.patchClusterCustomObjectStatus({ ...VIPPOOLS, name: 'pool-a', body: { status: { allocated: 3 } } }, status);
  await custom.patchClusterCustomObject({ ...VIPPOOLS, name: 'pool-a', body: { spec: { autoAssign: false }, status: { allocated: 99 } } }, status);
  const got = (await custom.getClusterCustomObject({ ...VIPPOOLS, name: 'pool-a' })) as Record<string, unknown>;
  expect(got['status']).toEqual({ allocated: 3 });
  expect(got['spec']).toEqual({ cidrs: ['192.0.2.0/28'], autoAssign: false });
  expect((got['metadata'] as { generation: number }).generation).toBe(2);

  const list = (await custom.listClusterCustomObject(VIPPOOLS)) as KubernetesListObject<KubernetesObject>;
  expect(list.kind).toBe('VipPoolList');
  expect(list.items[0]).toMatchObject({ kind: 'VipPool', apiVersion: 'balanced.dev/v1alpha1' });

  await custom.deleteClusterCustomObject({ ...VIPPOOLS, name: 'pool-a' });
  expect(server.store.list('vippools')).toEqual([]);
  expect((await failure(custom.getClusterCustomObject({ ...VIPPOOLS, name: 'pool-a' }))).status.message).toBe(
    'vippools.balanced.dev "pool-a" not found',
  );
});

test('namespaced CRD lives under /namespaces/{ns}', async () => {
  await custom.createNamespacedCustomObject({
    group: 'balanced.dev',
    version: 'v1alpha1',
    plural: 'balancingpolicies',
    namespace: 'default',
    body: { metadata: { name: 'bp' }, spec: {} },
  });
  expect(server.store.get('balancingpolicies', 'bp', 'default')?.metadata.namespace).toBe('default');
  expect(server.requests.at(-1)?.path).toBe('/apis/balanced.dev/v1alpha1/namespaces/default/balancingpolicies');
});

test('an informer over a CRD', async () => {
  const kc = server.kubeConfig();
  const informer = makeInformer<KubernetesObject>(kc, '/apis/balanced.dev/v1alpha1/vippools', async () => {
    return (await custom.listClusterCustomObject(VIPPOOLS)) as KubernetesListObject<KubernetesObject>;
  });
  const seen: string[] = [];
  informer.on('add', (o) => seen.push(`add ${o.metadata?.name ?? ''}`));
  informer.on('update', (o) => seen.push(`update ${o.metadata?.name ?? ''}`));
  await informer.start();
  try {
    server.store.put('vippools', pool('pool-b', '198.51.100.0/24'));
    server.store.put('vippools', { ...pool('pool-b', '198.51.100.0/24'), status: { allocated: 1 } });
    await waitFor(() => seen.length === 2, 'pool events');
    expect(seen).toEqual(['add pool-b', 'update pool-b']);
  } finally {
    await informer.stop();
  }
});
