// REST semantics through the real client: CRUD, Status errors, /status, patches, events.

import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { CoreV1Api, CoordinationV1Api, KubeConfig, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';

import { TestApiServer } from '../../src/apiserver/index.js';
import { failure, service } from './support.js';

let server: TestApiServer;
let core: CoreV1Api;
const merge = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
const strategic = setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch);

beforeAll(async () => {
  server = await TestApiServer.start();
  core = server.kubeConfig().makeApiClient(CoreV1Api);
});
afterAll(async () => {
  await server.stop();
});

describe('create, read, update, delete', () => {
  test('create sets server metadata; a second create is 409 AlreadyExists', async () => {
    const created = await core.createNamespacedService({ namespace: 'default', body: service('crud-a') });
    expect(created.metadata?.uid).toMatch(/^[0-9a-f-]{36}$/);
    expect(created.metadata?.resourceVersion).toMatch(/^\d+$/);
    expect(created.metadata?.generation).toBe(1);
    expect(created.metadata?.namespace).toBe('default');
    expect(created.metadata?.creationTimestamp).toBeInstanceOf(Date);

    const { code, status } = await failure(core.createNamespacedService({ namespace: 'default', body: service('crud-a') }));
    expect(code).toBe(409);
    expect(status).toMatchObject({ kind: 'Status', status: 'Failure', reason: 'AlreadyExists', code: 409 });
    expect(status.message).toBe('services "crud-a" already exists');
  });

  test('read and delete a missing object are 404 NotFound Status', async () => {
    for (const call of [
      core.readNamespacedService({ name: 'nope', namespace: 'default' }),
      core.deleteNamespacedService({ name: 'nope', namespace: 'default' }),
    ]) {
      const { code, status } = await failure(call);
      expect(code).toBe(404);
      expect(status).toMatchObject({ reason: 'NotFound', details: { name: 'nope', kind: 'services' } });
    }
  });

  test('update with a stale resourceVersion is 409 Conflict; a fresh one bumps rv and generation', async () => {
    const created = await core.createNamespacedService({ namespace: 'default', body: service('crud-b') });
    const fresh = await core.replaceNamespacedService({
      name: 'crud-b',
      namespace: 'default',
      body: { ...created, spec: { ...created.spec, ports: [{ port: 81, protocol: 'TCP' }] } },
    });
    expect(Number(fresh.metadata?.resourceVersion)).toBeGreaterThan(Number(created.metadata?.resourceVersion));
    expect(fresh.metadata?.generation).toBe(2);

    const { code, status } = await failure(
      core.replaceNamespacedService({ name: 'crud-b', namespace: 'default', body: created }),
    );
    expect(code).toBe(409);
    expect(status.reason).toBe('Conflict');
    expect(status.message).toContain('the object has been modified');
  });

  test('delete returns the object and removes it', async () => {
    await core.createNamespacedService({ namespace: 'default', body: service('crud-c') });
    const deleted = await core.deleteNamespacedService({ name: 'crud-c', namespace: 'default' });
    expect(deleted.metadata?.name).toBe('crud-c');
    expect(server.store.get('services', 'crud-c', 'default')).toBeUndefined();
  });

  test('generateName picks a unique name', async () => {
    const body = { metadata: { generateName: 'gen-' }, spec: { ports: [{ port: 80 }] } };
    const a = await core.createNamespacedService({ namespace: 'default', body });
    const b = await core.createNamespacedService({ namespace: 'default', body });
    expect(a.metadata?.name).toMatch(/^gen-[a-z0-9]{5}$/);
    expect(b.metadata?.name).not.toBe(a.metadata?.name);
  });

  test('one global resourceVersion across kinds', async () => {
    const svc = await core.createNamespacedService({ namespace: 'default', body: service('rv-svc') });
    const node = await core.createNode({ body: { metadata: { name: 'rv-node' } } });
    expect(Number(node.metadata?.resourceVersion)).toBe(Number(svc.metadata?.resourceVersion) + 1);
    expect(server.store.resourceVersion).toBe(node.metadata?.resourceVersion);
  });

  test('a finalizer holds a delete until it is removed', async () => {
    await core.createNamespacedService({
      namespace: 'default',
      body: { ...service('fin'), metadata: { name: 'fin', finalizers: ['balanced.dev/drain'] } },
    });
    const terminating = await core.deleteNamespacedService({ name: 'fin', namespace: 'default' });
    expect(terminating.metadata?.deletionTimestamp).toBeDefined();
    await core.patchNamespacedService({ name: 'fin', namespace: 'default', body: { metadata: { finalizers: null } } }, merge);
    expect(server.store.get('services', 'fin', 'default')).toBeUndefined();
  });
});

describe('status subresource', () => {
  test('PUT/PATCH on the object ignore .status; /status changes only .status', async () => {
    const created = await core.createNamespacedService({
      namespace: 'default',
      body: { ...service('st'), status: { loadBalancer: { ingress: [{ ip: '192.0.2.9' }] } } },
    });
    expect(created.status).toEqual({ loadBalancer: {} }); // status is not set on create

    const patchedMain = await core.patchNamespacedService(
      { name: 'st', namespace: 'default', body: { status: { loadBalancer: { ingress: [{ ip: '192.0.2.1' }] } } } },
      merge,
    );
    expect(patchedMain.status?.loadBalancer?.ingress).toBeUndefined();
    expect(patchedMain.metadata?.resourceVersion).toBe(created.metadata?.resourceVersion); // a no-op write

    const withStatus = await core.patchNamespacedServiceStatus(
      {
        name: 'st',
        namespace: 'default',
        body: { spec: { ports: [{ port: 9 }] }, status: { loadBalancer: { ingress: [{ ip: '192.0.2.1' }] } } },
      },
      merge,
    );
    expect(withStatus.status?.loadBalancer?.ingress).toEqual([{ ip: '192.0.2.1' }]);
    expect(withStatus.spec?.ports?.[0]?.port).toBe(80);
    expect(withStatus.metadata?.generation).toBe(1);

    const replaced = await core.replaceNamespacedServiceStatus({
      name: 'st',
      namespace: 'default',
      body: { ...withStatus, status: { loadBalancer: { ingress: [{ ip: '192.0.2.2' }] } } },
    });
    expect(replaced.status?.loadBalancer?.ingress).toEqual([{ ip: '192.0.2.2' }]);

    const stale = await failure(core.replaceNamespacedServiceStatus({ name: 'st', namespace: 'default', body: withStatus }));
    expect(stale.code).toBe(409);
  });
});

describe('patch content types', () => {
  test('the default content type of a 1.x/2.x patch call is JSON patch', async () => {
    await core.createNamespacedService({ namespace: 'default', body: service('jp', { tier: 'web' }) });
    server.clearRequests();
    const patched = await core.patchNamespacedService({
      name: 'jp',
      namespace: 'default',
      body: [
        { op: 'test', path: '/metadata/labels/tier', value: 'web' },
        { op: 'replace', path: '/metadata/labels/tier', value: 'edge' },
        { op: 'add', path: '/metadata/annotations', value: { 'balanced.dev/scheduler': 'mh' } },
        { op: 'add', path: '/spec/ports/-', value: { port: 443, protocol: 'TCP' } },
        { op: 'remove', path: '/spec/selector' },
      ],
    });
    expect(server.requests.at(-1)).toMatchObject({ method: 'PATCH', contentType: 'application/json-patch+json' });
    expect(patched.metadata?.labels).toEqual({ tier: 'edge' });
    expect(patched.metadata?.annotations).toEqual({ 'balanced.dev/scheduler': 'mh' });
    expect(patched.spec?.ports?.map((p) => p.port)).toEqual([80, 443]);
    expect(patched.spec?.selector).toBeUndefined();

    const failed = await failure(
      core.patchNamespacedService({
        name: 'jp',
        namespace: 'default',
        body: [{ op: 'test', path: '/metadata/labels/tier', value: 'web' }],
      }),
    );
    expect(failed.code).toBe(422);
  });

  test('merge and strategic merge patches merge maps and replace lists', async () => {
    await core.createNamespacedService({ namespace: 'default', body: service('mp', { a: '1', b: '2' }) });
    const merged = await core.patchNamespacedService(
      { name: 'mp', namespace: 'default', body: { metadata: { labels: { a: null, c: '3' } } } },
      merge,
    );
    expect(merged.metadata?.labels).toEqual({ b: '2', c: '3' });
    const strat = await core.patchNamespacedService(
      { name: 'mp', namespace: 'default', body: { spec: { ports: [{ port: 8080, protocol: 'TCP' }] } } },
      strategic,
    );
    expect(server.requests.at(-1)?.contentType).toBe('application/strategic-merge-patch+json');
    expect(strat.spec?.ports?.map((p) => p.port)).toEqual([8080]);
  });

  test('a merge patch carrying a stale resourceVersion is 409; PATCH of a missing object is 404', async () => {
    const svc = await core.createNamespacedService({ namespace: 'default', body: service('mp-rv') });
    await core.patchNamespacedService({ name: 'mp-rv', namespace: 'default', body: { metadata: { labels: { x: 'y' } } } }, merge);
    const stale = await failure(
      core.patchNamespacedService(
        { name: 'mp-rv', namespace: 'default', body: { metadata: { resourceVersion: svc.metadata?.resourceVersion, labels: { x: 'z' } } } },
        merge,
      ),
    );
    expect(stale.code).toBe(409);
    const missing = await failure(core.patchNamespacedService({ name: 'ghost', namespace: 'default', body: {} }, merge));
    expect(missing.code).toBe(404);
  });
});

describe('other kinds', () => {
  test('Leases: optimistic locking as leader election uses it', async () => {
    const coord = server.kubeConfig().makeApiClient(CoordinationV1Api);
    const lease = await coord.createNamespacedLease({
      namespace: 'kube-system',
      body: { metadata: { name: 'balanced-leader' }, spec: { holderIdentity: 'a', leaseDurationSeconds: 15 } },
    });
    await coord.replaceNamespacedLease({
      name: 'balanced-leader',
      namespace: 'kube-system',
      body: { ...lease, spec: { ...lease.spec, holderIdentity: 'b' } },
    });
    const lost = await failure(
      coord.replaceNamespacedLease({ name: 'balanced-leader', namespace: 'kube-system', body: { ...lease, spec: { holderIdentity: 'c' } } }),
    );
    expect(lost.code).toBe(409);
    expect(server.store.get('leases', 'balanced-leader', 'kube-system')?.['spec']).toMatchObject({ holderIdentity: 'b' });
  });

  test('Events are stored for assertions', async () => {
    const svc = await core.createNamespacedService({ namespace: 'default', body: service('ev-target') });
    await core.createNamespacedEvent({
      namespace: 'default',
      body: {
        metadata: { generateName: 'ev-target.' },
        involvedObject: { kind: 'Service', namespace: 'default', name: 'ev-target', uid: svc.metadata?.uid },
        reason: 'InvalidAnnotation',
        message: 'balanced.dev/scheduler: unknown scheduler "xx"',
        type: 'Warning',
        source: { component: 'ipvs-controller' },
      },
    });
    const events = server.store.list('events', { fieldSelector: 'involvedObject.name=ev-target,reason=InvalidAnnotation' });
    expect(events).toHaveLength(1);
    expect(events[0]?.['type']).toBe('Warning');
  });

  test('cluster-scoped Nodes and the Namespaces that exist at start', async () => {
    await core.createNode({ body: { metadata: { name: 'n1', labels: { role: 'director' } } } });
    expect((await core.readNode({ name: 'n1' })).metadata?.namespace).toBeUndefined();
    const namespaces = await core.listNamespace();
    expect(namespaces.items.map((n) => n.metadata?.name)).toEqual(['default', 'kube-node-lease', 'kube-public', 'kube-system']);
  });
});

describe('server plumbing', () => {
  test('discovery documents and unknown paths', async () => {
    const get = async (path: string): Promise<{ status: number; body: Record<string, unknown> }> => {
      const res = await fetch(server.url + path);
      return { status: res.status, body: (await res.json()) as Record<string, unknown> };
    };
    expect((await get('/api')).body).toMatchObject({ kind: 'APIVersions', versions: ['v1'] });
    const groups = (await get('/apis')).body['groups'] as Array<{ name: string }>;
    expect(groups.map((g) => g.name)).toEqual(expect.arrayContaining(['discovery.k8s.io', 'coordination.k8s.io', 'events.k8s.io']));
    const core1 = (await get('/api/v1')).body['resources'] as Array<{ name: string; namespaced: boolean }>;
    expect(core1.map((r) => r.name)).toEqual(expect.arrayContaining(['services', 'services/status', 'pods', 'events']));
    expect(core1.find((r) => r.name === 'nodes')?.namespaced).toBe(false);
    const missing = await get('/apis/example.com/v1/widgets');
    expect(missing.status).toBe(404);
    expect(missing.body).toMatchObject({ kind: 'Status', reason: 'NotFound' });
  });

  test('requests are recorded with method, path and query', async () => {
    server.clearRequests();
    await core.listNamespacedService({ namespace: 'default', labelSelector: 'app=x' });
    expect(server.requests).toEqual([
      expect.objectContaining({ method: 'GET', path: '/api/v1/namespaces/default/services', query: { labelSelector: 'app=x' } }),
    ]);
  });

  test('kubeconfigYaml loads into a working KubeConfig', async () => {
    const kc = new KubeConfig();
    kc.loadFromString(server.kubeconfigYaml());
    expect(kc.getCurrentCluster()?.server).toBe(server.url);
    const list = await kc.makeApiClient(CoreV1Api).listNamespace();
    expect(list.items.length).toBeGreaterThan(0);
  });
});
