// RBAC enforcement with the real client-node: each component's ServiceAccount, Roles and
// bindings loaded from deploy/*.yaml; the calls each component's code makes are allowed, what
// its Role does not grant is refused with the real server's 401/403 Status.


import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  ApiException,
  CoordinationV1Api,
  CoreV1Api,
  CustomObjectsApi,
  DiscoveryV1Api,
  PatchStrategy,
  setHeaderOptions,
} from '@kubernetes/client-node';
import type { KubeConfig } from '@kubernetes/client-node';

import { TestApiServer, authorize, forbiddenMessage, serviceAccountUser, testKubeConfig } from '../../src/apiserver/index.js';
import { readDeployDocuments } from '../../src/manifest-run/deploy.js';
import { failure, openWatch, service, waitFor } from './support.js';

const NS = 'balanced-system';
const VIPPOOLS = { group: 'balanced.dev', version: 'v1alpha1', plural: 'vippools' };
const merge = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
const user = (sa: string): string => `system:serviceaccount:${NS}:${sa}`;

let server: TestApiServer;
let admin: CoreV1Api;
const kcs = new Map<string, KubeConfig>();
const as = (sa: string): KubeConfig => {
  const kc = kcs.get(sa) ?? server.serviceAccountKubeConfig(NS, sa);
  kcs.set(sa, kc);
  return kc;
};

function deployDocs(): unknown[] {
  return readDeployDocuments();
}

/** The HTTP code a client-node call failed with. */
async function codeOf(call: Promise<unknown>): Promise<number> {
  try {
    await call;
  } catch (err) {
    if (err instanceof ApiException) return err.code;
    throw err;
  }
  throw new Error('expected the call to fail');
}

beforeAll(async () => {
  server = await TestApiServer.start({ rbac: true, customResources: [{ ...VIPPOOLS, kind: 'VipPool', namespaced: false }] });
  const { loaded } = server.load(deployDocs());
  expect(loaded).toEqual(expect.arrayContaining([`ServiceAccount/${NS}/balanced-vip-allocator`, 'ClusterRole/balanced-ipvs-controller', `Namespace/${NS}`]));
  admin = server.kubeConfig().makeApiClient(CoreV1Api);
  await admin.createNamespacedService({ namespace: 'default', body: service('web') });
});
afterAll(async () => {
  await server.stop();
});

describe('authentication', () => {
  it('no token or an unknown token: 401 Unauthorized; the admin token is unrestricted', async () => {
    const noToken = testKubeConfig(server.url, 'default', 'not-a-token');
    expect(await codeOf(noToken.makeApiClient(CoreV1Api).listPodForAllNamespaces())).toBe(401);
    // client-node drops a 401's body: read it with fetch.
    const none: Record<string, string> = {};
    for (const headers of [none, { Authorization: 'Bearer nope' }]) {
      const res = await fetch(`${server.url}/api/v1/pods`, { headers });
      expect([res.status, await res.json()]).toEqual([
        401,
        { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'Unauthorized', reason: 'Unauthorized', code: 401 },
      ]);
    }
    expect((await fetch(`${server.url}/apis`, { headers: { Authorization: 'Bearer nope' } })).status).toBe(401);
    expect((await fetch(`${server.url}/version`)).status).toBe(200);
    expect((await admin.listPodForAllNamespaces()).items).toEqual([]);
  });

  it("a ServiceAccount's token stops working when the ServiceAccount is deleted", async () => {
    await admin.createNamespacedServiceAccount({ namespace: 'default', body: { metadata: { name: 'short-lived' } } });
    const core = server.serviceAccountKubeConfig('default', 'short-lived').makeApiClient(CoreV1Api);
    expect((await failure(core.listNamespacedService({ namespace: 'default' }))).code).toBe(403);
    await admin.deleteNamespacedServiceAccount({ namespace: 'default', name: 'short-lived' });
    expect(await codeOf(core.listNamespacedService({ namespace: 'default' }))).toBe(401);
  });
});

describe('the calls each component makes are allowed by its Role from deploy/', () => {
  it('ipvs-controller and endpoint-controller: list Services, EndpointSlices, Pods; create and patch Events', async () => {
    for (const sa of ['balanced-ipvs-controller', 'balanced-endpoint-controller']) {
      const core = as(sa).makeApiClient(CoreV1Api);
      await core.listServiceForAllNamespaces({ limit: 500 });
      await as(sa).makeApiClient(DiscoveryV1Api).listEndpointSliceForAllNamespaces({ limit: 500 });
      await core.listPodForAllNamespaces({ fieldSelector: 'spec.nodeName=node-a' });
      const event = await core.createNamespacedEvent({
        namespace: 'default',
        body: { metadata: { name: `web.${sa}` }, involvedObject: { kind: 'Service', name: 'web', namespace: 'default' }, reason: 'Test', message: 'm', type: 'Normal', count: 1 },
      });
      await core.patchNamespacedEvent({ namespace: 'default', name: event.metadata!.name!, body: { count: 2 } }, merge);
    }
  });

  it('ipvs-controller: a watch on Services streams; a watch on Nodes is refused', async () => {
    const w = await openWatch(as('balanced-ipvs-controller'), '/api/v1/services', { allowWatchBookmarks: true });
    await admin.createNamespacedService({ namespace: 'default', body: service('watched') });
    await waitFor(() => w.events.some((e) => e.name === 'watched'), 'the watch to see the new Service');
    w.abort();
    const refused = await openWatch(as('balanced-ipvs-controller'), '/api/v1/nodes', {});
    expect(String(await refused.ended)).toMatch(/403|Forbidden/);
  });

  it('vip-announcer: lists Services, EndpointSlices and VipPools; writes nothing', async () => {
    const kc = as('balanced-vip-announcer');
    await kc.makeApiClient(CoreV1Api).listServiceForAllNamespaces();
    await kc.makeApiClient(DiscoveryV1Api).listEndpointSliceForAllNamespaces();
    await kc.makeApiClient(CustomObjectsApi).listClusterCustomObject(VIPPOOLS);
    const { code } = await failure(
      kc.makeApiClient(CoreV1Api).createNamespacedEvent({ namespace: 'default', body: { metadata: { name: 'e' }, involvedObject: {} } }),
    );
    expect(code).toBe(403);
  });

  it('vip-allocator: reads Services, patches services/status, holds its Lease; nothing more', async () => {
    const kc = as('balanced-vip-allocator');
    const core = kc.makeApiClient(CoreV1Api);
    await core.readNamespacedService({ namespace: 'default', name: 'web' });
    const patched = await core.patchNamespacedServiceStatus(
      { namespace: 'default', name: 'web', body: { status: { loadBalancer: { ingress: [{ ip: '10.96.100.1' }] } } } },
      merge,
    );
    expect(patched.status?.loadBalancer?.ingress).toEqual([{ ip: '10.96.100.1' }]);
    await kc.makeApiClient(CustomObjectsApi).listClusterCustomObject(VIPPOOLS);

    const leases = kc.makeApiClient(CoordinationV1Api);
    expect((await failure(leases.readNamespacedLease({ namespace: NS, name: 'balanced-vip-allocator' }))).code).toBe(404);
    const lease = await leases.createNamespacedLease({ namespace: NS, body: { metadata: { name: 'balanced-vip-allocator' }, spec: { holderIdentity: 'a' } } });
    await leases.replaceNamespacedLease({ namespace: NS, name: 'balanced-vip-allocator', body: { ...lease, spec: { holderIdentity: 'b' } } });

    const other = await failure(leases.readNamespacedLease({ namespace: NS, name: 'someone-else' }));
    expect(other.code).toBe(403);
    expect(other.status.message).toBe(
      `leases.coordination.k8s.io "someone-else" is forbidden: User "${user('balanced-vip-allocator')}" cannot get resource "leases" in API group "coordination.k8s.io" in the namespace "${NS}"`,
    );
    expect((await failure(leases.createNamespacedLease({ namespace: 'default', body: { metadata: { name: 'x' } } }))).code).toBe(403);
  });
});

describe('what a Role does not grant is refused as the real API server refuses it', () => {
  it('list at the cluster scope', async () => {
    const { code, status } = await failure(as('balanced-vip-allocator').makeApiClient(CoreV1Api).listPodForAllNamespaces());
    expect(code).toBe(403);
    expect(status).toEqual({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: `pods is forbidden: User "${user('balanced-vip-allocator')}" cannot list resource "pods" in API group "" at the cluster scope`,
      reason: 'Forbidden',
      details: { kind: 'pods' },
      code: 403,
    });
  });

  it('get, update and delete of a named object; the subresource is named in the message', async () => {
    const core = as('balanced-ipvs-controller').makeApiClient(CoreV1Api);
    const get = await failure(core.readNamespacedService({ namespace: 'default', name: 'web' }));
    expect(get.status.message).toBe(
      `services "web" is forbidden: User "${user('balanced-ipvs-controller')}" cannot get resource "services" in API group "" in the namespace "default"`,
    );
    expect(get.status.details).toEqual({ name: 'web', kind: 'services' });
    const current = await admin.readNamespacedService({ namespace: 'default', name: 'web' });
    expect((await failure(core.replaceNamespacedService({ namespace: 'default', name: 'web', body: current }))).code).toBe(403);
    expect((await failure(core.deleteNamespacedService({ namespace: 'default', name: 'web' }))).code).toBe(403);
    const status = await failure(core.patchNamespacedServiceStatus({ namespace: 'default', name: 'web', body: { status: {} } }, merge));
    expect(status.status.message).toBe(
      `services "web" is forbidden: User "${user('balanced-ipvs-controller')}" cannot patch resource "services/status" in API group "" in the namespace "default"`,
    );
  });

  it('the allocator may patch a Service (its last-accepted annotation) but neither replace nor delete it', async () => {
    const core = as('balanced-vip-allocator').makeApiClient(CoreV1Api);
    await core.patchNamespacedService({ namespace: 'default', name: 'web', body: { metadata: { annotations: { 'last-accepted.balanced.dev/annotations': '{}' } } } }, merge);
    const current = await admin.readNamespacedService({ namespace: 'default', name: 'web' });
    const replaced = await failure(core.replaceNamespacedService({ namespace: 'default', name: 'web', body: current }));
    expect(replaced.status.message).toContain('cannot update resource "services" in API group ""');
    const deleted = await failure(core.deleteNamespacedService({ namespace: 'default', name: 'web' }));
    expect(deleted.status.message).toContain('cannot delete resource "services" in API group ""');
  });

  it('a Role change takes effect on the next request', async () => {
    const core = as('balanced-vip-announcer').makeApiClient(CoreV1Api);
    expect((await failure(core.listNode())).code).toBe(403);
    const role = server.store.get('clusterroles.rbac.authorization.k8s.io', 'balanced-vip-announcer')!;
    server.store.put('clusterroles.rbac.authorization.k8s.io', { ...role, rules: [...(role['rules'] as unknown[]), { apiGroups: [''], resources: ['nodes'], verbs: ['list'] }] });
    await core.listNode();
    server.store.put('clusterroles.rbac.authorization.k8s.io', role);
    expect((await failure(core.listNode())).code).toBe(403);
  });
});

describe('authorize (pure)', () => {
  const attrs = { user: serviceAccountUser('ns', 'sa'), verb: 'get', apiGroup: '', resource: 'services', subresource: '', namespace: 'ns', name: 'web' };
  const bound = (rules: unknown[], binding: 'cluster' | 'role' = 'cluster'): Parameters<typeof authorize>[0] => ({
    roles: [{ metadata: { name: 'r', namespace: 'ns' }, rules }],
    clusterRoles: [{ metadata: { name: 'r' }, rules }],
    roleBindings:
      binding === 'role' ? [{ metadata: { name: 'b', namespace: 'ns' }, roleRef: { kind: 'Role', name: 'r' }, subjects: [{ kind: 'ServiceAccount', name: 'sa' }] }] : [],
    clusterRoleBindings:
      binding === 'cluster' ? [{ metadata: { name: 'b' }, roleRef: { kind: 'ClusterRole', name: 'r' }, subjects: [{ kind: 'Group', name: 'system:serviceaccounts:ns' }] }] : [],
  });

  it('wildcards, subresources, resourceNames and namespaces', () => {
    expect(authorize(bound([{ apiGroups: ['*'], resources: ['*'], verbs: ['*'] }]), attrs)).toBe(true);
    expect(authorize(bound([{ apiGroups: [''], resources: ['services'], verbs: ['list'] }]), attrs)).toBe(false);
    expect(authorize(bound([{ apiGroups: [''], resources: ['services'], verbs: ['get'] }]), { ...attrs, subresource: 'status' })).toBe(false);
    expect(authorize(bound([{ apiGroups: [''], resources: ['*/status'], verbs: ['get'] }]), { ...attrs, subresource: 'status' })).toBe(true);
    expect(authorize(bound([{ apiGroups: [''], resources: ['services'], verbs: ['get'], resourceNames: ['other'] }]), attrs)).toBe(false);
    expect(authorize(bound([{ apiGroups: [''], resources: ['services'], verbs: ['list'], resourceNames: ['web'] }]), { ...attrs, verb: 'list', name: '' })).toBe(false);
    const roleOnly = bound([{ apiGroups: [''], resources: ['services'], verbs: ['get'] }], 'role');
    expect(authorize(roleOnly, attrs)).toBe(true);
    expect(authorize(roleOnly, { ...attrs, namespace: 'elsewhere' })).toBe(false);
    expect(authorize(roleOnly, { ...attrs, namespace: '' })).toBe(false);
  });

  it('forbiddenMessage without a namespace or a name', () => {
    expect(forbiddenMessage({ ...attrs, verb: 'watch', apiGroup: 'discovery.k8s.io', resource: 'endpointslices', namespace: '', name: '' })).toBe(
      'endpointslices.discovery.k8s.io is forbidden: User "system:serviceaccount:ns:sa" cannot watch resource "endpointslices" in API group "discovery.k8s.io" at the cluster scope',
    );
  });
});
