// client-node informers (makeInformer → ListWatch) against the test server: add/update/
// delete, relist after 410, and recovery from a server restart or cut watch connections.
//
// How client-node reports trouble: a watch that *ends* (timeout, ERROR 410 then end) makes
// ListWatch reconnect by itself (relisting after a 410); a watch that *fails* (connection
// reset, refused) fires the 'error' callbacks and the informer stops. The usual pattern,
// shown in `runInformer`, is to start it again after a delay unless we stopped it.

import { afterEach, beforeEach, describe, expect, test } from '@jest/globals';
import { ADD, CoreV1Api, DELETE, DiscoveryV1Api, ERROR, UPDATE, makeInformer } from '@kubernetes/client-node';
import type { Informer, KubernetesObject, ObjectCache, V1EndpointSlice, V1Service } from '@kubernetes/client-node';

import { TestApiServer } from '../../src/apiserver/index.js';
import { service, waitFor } from './support.js';

let server: TestApiServer;
const running: Array<{ stop(): Promise<void> }> = [];

beforeEach(async () => {
  server = await TestApiServer.start({ bookmarkIntervalMs: 100 });
});
afterEach(async () => {
  for (const r of running.splice(0)) await r.stop();
  await server.stop();
});

interface Running<T extends KubernetesObject> {
  informer: Informer<T> & ObjectCache<T>;
  /** 'add a', 'update a', 'delete a' in the order the callbacks fired. */
  seen: string[];
  errors: number;
  /** Automatic restart after an error; tests can hold it to create a gap. */
  autoRestart: boolean;
  names(): string[];
  stop(): Promise<void>;
}

async function runInformer<T extends KubernetesObject>(informer: Informer<T> & ObjectCache<T>, restartDelayMs = 50): Promise<Running<T>> {
  let stopped = false;
  const r: Running<T> = {
    informer,
    seen: [],
    errors: 0,
    autoRestart: true,
    names: () => informer.list().map((o) => o.metadata?.name ?? '').sort(),
    stop: async () => {
      stopped = true;
      await informer.stop();
    },
  };
  for (const verb of [ADD, UPDATE, DELETE] as const) {
    informer.on(verb, (obj: T) => r.seen.push(`${verb} ${obj.metadata?.name ?? ''}`));
  }
  informer.on(ERROR, () => {
    r.errors++;
    if (stopped || !r.autoRestart) return;
    setTimeout(() => {
      if (!stopped) void informer.start();
    }, restartDelayMs);
  });
  running.push(r);
  await informer.start();
  return r;
}

function serviceInformer(): Informer<V1Service> & ObjectCache<V1Service> {
  const kc = server.kubeConfig();
  const core = kc.makeApiClient(CoreV1Api);
  return makeInformer(kc, '/api/v1/namespaces/default/services', () => core.listNamespacedService({ namespace: 'default' }));
}

/** The cache holds exactly what the store holds, at the same resourceVersions. */
function expectInSync(r: Running<V1Service>): void {
  const want = server.store.list('services', { namespace: 'default' }).map((s) => `${s.metadata.name}@${s.metadata.resourceVersion}`);
  const have = r.informer
    .list()
    .map((s) => `${s.metadata?.name ?? ''}@${s.metadata?.resourceVersion ?? ''}`)
    .sort();
  expect(have).toEqual(want.sort());
}

describe('informers see changes', () => {
  test('Services: add, update, delete', async () => {
    const core = server.kubeConfig().makeApiClient(CoreV1Api);
    await core.createNamespacedService({ namespace: 'default', body: service('before') });
    const r = await runInformer(serviceInformer());
    await waitFor(() => r.seen.length === 1, 'initial list');

    await core.createNamespacedService({ namespace: 'default', body: service('web') });
    await core.patchNamespacedService({ name: 'web', namespace: 'default', body: [{ op: 'add', path: '/metadata/labels/x', value: 'y' }] });
    await core.deleteNamespacedService({ name: 'before', namespace: 'default' });
    await waitFor(() => r.seen.length === 4, 'three changes');
    expect(r.seen).toEqual(['add before', 'add web', 'update web', 'delete before']);
    expect(r.informer.get('web', 'default')?.metadata?.labels).toEqual({ x: 'y' });
    expectInSync(r);
  });

  test('EndpointSlices by label, across namespaces', async () => {
    const kc = server.kubeConfig();
    const discovery = kc.makeApiClient(DiscoveryV1Api);
    const selector = 'kubernetes.io/service-name=web';
    const informer = makeInformer(
      kc,
      '/apis/discovery.k8s.io/v1/endpointslices',
      () => discovery.listEndpointSliceForAllNamespaces({ labelSelector: selector }),
      selector,
    );
    const r = await runInformer<V1EndpointSlice>(informer);
    const slice = (name: string, svc: string, ip: string): V1EndpointSlice => ({
      metadata: { name, labels: { 'kubernetes.io/service-name': svc } },
      addressType: 'IPv4',
      endpoints: [{ addresses: [ip], conditions: { ready: true } }],
      ports: [{ port: 8080, protocol: 'TCP' }],
    });
    await discovery.createNamespacedEndpointSlice({ namespace: 'default', body: slice('web-abc', 'web', '10.0.0.1') });
    await discovery.createNamespacedEndpointSlice({ namespace: 'default', body: slice('db-abc', 'db', '10.0.0.2') });
    await discovery.replaceNamespacedEndpointSlice({
      name: 'web-abc',
      namespace: 'default',
      body: { ...slice('web-abc', 'web', '10.0.0.3'), metadata: { name: 'web-abc', labels: { 'kubernetes.io/service-name': 'web' } } },
    });
    await discovery.deleteNamespacedEndpointSlice({ name: 'web-abc', namespace: 'default' });
    await waitFor(() => r.seen.length === 3, 'slice changes');
    expect(r.seen).toEqual(['add web-abc', 'update web-abc', 'delete web-abc']);
    expect(server.requests.filter((q) => q.query['watch'] === 'true').every((q) => q.query['labelSelector'] === selector)).toBe(true);
  });
});

describe('recovery', () => {
  test('a watch resumed after compaction gets 410, the informer relists, and no change is lost', async () => {
    for (const name of ['keep', 'change', 'remove']) server.store.put('services', service(name));
    const r = await runInformer(serviceInformer());
    await waitFor(() => r.seen.length === 3, 'initial list');

    r.autoRestart = false; // hold the informer down while the world moves on
    server.cutWatches();
    await waitFor(() => r.errors === 1, 'the cut reported as an error');
    server.store.put('services', { ...service('change'), spec: { ports: [{ port: 8443 }] } });
    server.store.delete('services', 'remove');
    server.store.put('services', service('added'));
    server.compact();
    server.clearRequests();

    await r.informer.start(); // resumes from its old resourceVersion → ERROR 410 → relist
    await waitFor(() => r.seen.length === 6, 'changes after relist');
    expect(r.seen.slice(3).sort()).toEqual(['add added', 'delete remove', 'update change']);
    expectInSync(r);
    const [watch410, relist] = server.requests;
    expect(watch410?.query).toMatchObject({ watch: 'true' });
    expect(relist).toMatchObject({ method: 'GET', path: '/api/v1/namespaces/default/services', query: {} });
  });

  test('restart(): watches drop, the informer restarts on error and resumes without relisting', async () => {
    const r = await runInformer(serviceInformer());
    server.store.put('services', service('a'));
    await waitFor(() => r.seen.length === 1, 'a');

    const restarting = server.restart({ downtimeMs: 300 });
    server.store.put('services', service('b')); // changes while the server is down
    server.store.delete('services', 'a');
    await restarting;
    server.store.put('services', { ...service('b'), spec: { ports: [{ port: 1 }] } });

    await waitFor(() => r.seen.length === 4, 'changes across the restart', 8000);
    expect(r.seen).toEqual(['add a', 'add b', 'delete a', 'update b']);
    expect(r.errors).toBeGreaterThanOrEqual(1);
    expectInSync(r);
    const lists = server.requests.filter((q) => q.method === 'GET' && q.query['watch'] === undefined);
    expect(lists).toHaveLength(1); // resumed from its resourceVersion: history covered the gap
  });

  test('cutWatches() mid-burst: events in flight are lost on the wire but replayed on resume', async () => {
    const r = await runInformer(serviceInformer());
    await waitFor(() => server.openWatches === 1, 'watch open');
    for (let i = 0; i < 50; i++) server.store.put('services', service(`s${i}`, { round: '1' }));
    expect(server.cutWatches()).toBe(1);
    for (let i = 25; i < 75; i++) server.store.put('services', service(`s${i}`, { round: '2' }));
    for (let i = 0; i < 10; i++) server.store.delete('services', `s${i}`);

    await waitFor(() => r.names().length === 65 && r.informer.get('s74', 'default') !== undefined, 'final state', 8000);
    expect(r.errors).toBeGreaterThanOrEqual(1);
    await waitFor(() => r.informer.get('s49', 'default')?.metadata?.labels?.['round'] === '2', 'last update');
    expectInSync(r);
  });

  test('client-node ListWatch never asks for bookmarks (so a quiet informer keeps an old resourceVersion)', async () => {
    await runInformer(serviceInformer());
    await waitFor(() => server.openWatches === 1, 'watch open');
    const watchQuery = server.requests.find((q) => q.query['watch'] === 'true')?.query;
    expect(watchQuery).toBeDefined();
    expect(watchQuery?.['allowWatchBookmarks']).toBeUndefined();
  });
});
