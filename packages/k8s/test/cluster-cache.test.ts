// The cluster cache against the test API server: real client-node informers over HTTP.

import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import type { KubernetesObject } from '@kubernetes/client-node';
import { createServer, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { TestApiServer, faultScenario, secondsSince, testKubeConfig } from '@balanced/testkit';

import { WATCHED_KINDS, createClusterCache, type ClusterCache, type ClusterCacheOptions, type WatchedKind } from '../src/cluster-cache.js';
import { desiredStateTransforms } from '../src/desired-fields.js';
import { waitFor } from './poll.js';

let server: TestApiServer;
const caches: ClusterCache[] = [];

beforeEach(async () => {
  server = await TestApiServer.start();
});
afterEach(async () => {
  logged.length = 0;
  for (const c of caches.splice(0)) await c.stop();
  await server.stop();
});

/** What the cache logged (tests never write to the console or stderr). */
const logged: { level: 'warn' | 'info'; fields: object; message: string }[] = [];
const log = {
  warn: (fields: object, message: string): void => void logged.push({ level: 'warn', fields, message }),
  info: (fields: object, message: string): void => void logged.push({ level: 'info', fields, message }),
};
const FAST = { restartDelayMs: { min: 20, max: 200 }, log } as const;

function cache(options: Partial<ClusterCacheOptions> = {}): ClusterCache {
  const c = createClusterCache(server.kubeConfig(), { kinds: WATCHED_KINDS, ...FAST, ...options });
  caches.push(c);
  return c;
}

// ---- fixtures (written straight into the store; watches still see them) ----------------
const svc = (name: string, namespace = 'default', port = 80): object => ({
  metadata: { name, namespace },
  spec: { type: 'LoadBalancer', ports: [{ port, protocol: 'TCP' }] },
});
const slice = (name: string, namespace = 'default', ip = '10.0.0.1'): object => ({
  metadata: { name, namespace, labels: { 'kubernetes.io/service-name': name.split('-')[0] ?? name } },
  addressType: 'IPv4',
  endpoints: [{ addresses: [ip], conditions: { ready: true } }],
  ports: [{ port: 8080, protocol: 'TCP' }],
});
const pod = (name: string, nodeName: string, namespace = 'default', labels: Record<string, string> = {}): object => ({
  metadata: { name, namespace, labels },
  spec: { nodeName, containers: [{ name: 'c', image: 'x' }] },
  status: { phase: 'Running', podIP: '10.1.0.1' },
});
const node = (name: string, unschedulable = false): object => ({ metadata: { name }, spec: { unschedulable } });

const RESOURCE: Partial<Record<WatchedKind, string>> = { services: 'services', endpointslices: 'endpointslices', pods: 'pods', nodes: 'nodes', vippools: 'vippools' };

function cached(c: ClusterCache, kind: WatchedKind): readonly KubernetesObject[] {
  switch (kind) {
    case 'services':
      return c.services();
    case 'endpointslices':
      return c.endpointSlices();
    case 'pods':
      return c.pods();
    case 'nodes':
      return c.nodes();
    case 'vippools':
      return c.vipPools();
    default:
      return [];
  }
}

const keyOf = (o: KubernetesObject): string => `${o.metadata?.namespace ?? ''}/${o.metadata?.name ?? ''}@${o.metadata?.resourceVersion ?? ''}`;

/** namespace/name@resourceVersion of what the cache holds vs what the server holds. */
function compare(c: ClusterCache, kind: WatchedKind, fieldSelector?: string): { have: string[]; want: string[] } {
  return {
    have: cached(c, kind).map(keyOf).sort(),
    want: server.store
      .list(RESOURCE[kind] ?? kind, fieldSelector === undefined ? {} : { fieldSelector })
      .map((o) => keyOf(o as KubernetesObject))
      .sort(),
  };
}

function inSync(c: ClusterCache, kinds: readonly WatchedKind[] = WATCHED_KINDS, podFieldSelector?: string): boolean {
  return kinds.every((k) => {
    const { have, want } = compare(c, k, k === 'pods' ? podFieldSelector : undefined);
    return have.join() === want.join();
  });
}

async function expectConverges(c: ClusterCache, what: string, timeoutMs = 10_000, podFieldSelector?: string): Promise<void> {
  await waitFor(
    () => inSync(c, WATCHED_KINDS, podFieldSelector),
    () => `${what}: ${JSON.stringify(WATCHED_KINDS.map((k) => ({ kind: k, ...compare(c, k, k === 'pods' ? podFieldSelector : undefined) })))}`,
    timeoutMs,
  );
}

describe('ClusterCache sees changes', () => {
  it('start() resolves once every kind has listed; the initial list is in the cache', async () => {
    server.store.put('services', svc('web', 'shop'));
    server.store.put('endpointslices', slice('web-abc', 'shop'));
    server.store.put('pods', pod('web-1', 'node-a', 'shop'));
    server.store.put('nodes', node('node-a'));
    const c = cache();
    expect(c.synced()).toBe(false);
    await c.start();
    expect(c.synced()).toBe(true);
    expect(inSync(c)).toBe(true);
    expect(c.services().map((s) => s.metadata?.name)).toEqual(['web']);
    expect(c.endpointSlices()[0]?.endpoints?.[0]?.addresses).toEqual(['10.0.0.1']);
    expect(c.stats()).toMatchObject({ restarts: 0, relists: 0 });
    expect(c.stats().lastEventAt).toBeDefined();
  });

  it('add, update and delete of all four kinds, across namespaces, with onChange per change', async () => {
    const c = cache();
    const changes: WatchedKind[] = [];
    const unsubscribe = c.onChange((kind) => changes.push(kind));
    await c.start();
    changes.length = 0; // the initial (empty) lists

    server.store.put('services', svc('web', 'shop'));
    server.store.put('services', svc('web', 'other'));
    server.store.put('endpointslices', slice('web-abc', 'shop'));
    server.store.put('pods', pod('web-1', 'node-a', 'shop'));
    server.store.put('nodes', node('node-a'));
    await expectConverges(c, 'adds');
    expect(c.services()).toHaveLength(2);

    server.store.put('services', svc('web', 'shop', 443));
    server.store.put('endpointslices', slice('web-abc', 'shop', '10.0.0.2'));
    server.store.put('pods', { ...pod('web-1', 'node-a', 'shop'), status: { phase: 'Running', podIP: '10.1.0.9' } });
    server.store.put('nodes', node('node-a', true));
    await expectConverges(c, 'updates');
    expect(c.services().find((s) => s.metadata?.namespace === 'shop')?.spec?.ports?.[0]?.port).toBe(443);
    expect(c.endpointSlices()[0]?.endpoints?.[0]?.addresses).toEqual(['10.0.0.2']);
    expect(c.pods()[0]?.status?.podIP).toBe('10.1.0.9');
    expect(c.nodes()[0]?.spec?.unschedulable).toBe(true);

    server.store.delete('services', 'web', 'shop');
    server.store.delete('endpointslices', 'web-abc', 'shop');
    server.store.delete('pods', 'web-1', 'shop');
    server.store.delete('nodes', 'node-a');
    await expectConverges(c, 'deletes');
    expect(c.services().map((s) => s.metadata?.namespace)).toEqual(['other']);
    expect([c.endpointSlices(), c.pods(), c.nodes()]).toEqual([[], [], []]);

    await waitFor(() => changes.length === 13, () => `13 onChange calls, got ${changes.join()}`);
    // Per phase (adds, updates, deletes): each kind has its own watch stream, so the order
    // across kinds within a phase is whichever stream delivered first.
    expect([changes.slice(0, 5).sort(), changes.slice(5, 9).sort(), changes.slice(9).sort()]).toEqual([
      ['endpointslices', 'nodes', 'pods', 'services', 'services'],
      ['endpointslices', 'nodes', 'pods', 'services'],
      ['endpointslices', 'nodes', 'pods', 'services'],
    ]);
    unsubscribe();
    server.store.put('nodes', node('node-b'));
    await waitFor(() => c.nodes().length === 1, 'node-b');
    expect(changes).toHaveLength(13);
  });

  it('only the kinds asked for are watched', async () => {
    server.store.put('pods', pod('p', 'node-a'));
    const c = cache({ kinds: ['services', 'nodes'] });
    await c.start();
    expect(c.pods()).toEqual([]);
    expect(c.endpointSlices()).toEqual([]);
    const paths = new Set(server.requests.map((r) => r.path));
    expect([...paths].sort()).toEqual(['/api/v1/nodes', '/api/v1/services']);
  });

  it('a transform shapes what the cache keeps, on the list and on watch events (paged lists too)', async () => {
    server.store.put('pods', pod('p-0', 'node-a'));
    server.store.put('pods', pod('p-1', 'node-a'));
    server.store.put('pods', pod('p-2', 'node-a'));
    const keep = (o: KubernetesObject): KubernetesObject => ({ metadata: { name: o.metadata?.name, namespace: o.metadata?.namespace, resourceVersion: o.metadata?.resourceVersion } });
    const changes: (KubernetesObject | undefined)[] = [];
    const c = cache({ kinds: ['pods', 'nodes'], transform: { pods: keep }, listPageSize: 2 });
    c.onChange((_kind, change) => changes.push(change?.object));
    await c.start();
    server.store.put('pods', pod('p-3', 'node-b'));
    server.store.put('nodes', node('n'));
    await waitFor(() => c.pods().length === 4 && c.nodes().length === 1, 'p-3 and the node');
    for (const p of c.pods()) expect(Object.keys(p)).toEqual(['metadata']);
    expect(c.pods().map((p) => p.metadata?.name).sort()).toEqual(['p-0', 'p-1', 'p-2', 'p-3']);
    expect(changes.filter((o) => o?.metadata?.name === 'p-3')).toEqual([{ metadata: expect.objectContaining({ name: 'p-3' }) }]);
    expect(c.nodes()[0]).toMatchObject({ spec: { unschedulable: false } }); // no transform: whole
  });

  it('a pod field selector caches only that node’s pods, on the list and on the watch', async () => {
    server.store.put('pods', pod('a-1', 'node-a'));
    server.store.put('pods', pod('b-1', 'node-b'));
    const c = cache({ podFieldSelector: 'spec.nodeName=node-a', podLabelSelector: 'app=web' });
    server.store.put('pods', pod('a-0', 'node-a', 'default', { app: 'web' }));
    await c.start();
    server.store.put('pods', pod('a-2', 'node-a', 'shop', { app: 'web' }));
    server.store.put('pods', pod('a-3', 'node-a', 'shop', { app: 'db' }));
    server.store.put('pods', pod('b-2', 'node-b', 'shop', { app: 'web' }));
    server.store.put('services', svc('marker'));
    await waitFor(() => c.services().length === 1 && c.pods().length === 2, 'the marker and two pods');
    expect(c.pods().map((p) => `${p.metadata?.namespace}/${p.metadata?.name}`).sort()).toEqual(['default/a-0', 'shop/a-2']);
    const podRequests = server.requests.filter((r) => r.path === '/api/v1/pods');
    expect(podRequests.length).toBeGreaterThanOrEqual(2); // list + watch
    for (const r of podRequests) {
      expect(r.query).toMatchObject({ fieldSelector: 'spec.nodeName=node-a', labelSelector: 'app=web' });
    }
  });
});

describe('ClusterCache recovery: no update lost', () => {
  it('restart(), cutWatches() and compact() mid-stream: the cache ends equal to the store', async () => {
    const c = cache();
    let changes = 0;
    c.onChange(() => changes++);
    for (let i = 0; i < 20; i++) server.store.put('services', svc(`s${i}`, i % 2 === 0 ? 'default' : 'shop'));
    for (let i = 0; i < 10; i++) server.store.put('pods', pod(`p${i}`, `node-${i % 3}`));
    server.store.put('nodes', node('node-0'));
    await c.start();
    await waitFor(() => server.openWatches === 4, 'four watches open');

    // 1. A burst, then a restart with changes while the server is down.
    for (let i = 20; i < 40; i++) server.store.put('services', svc(`s${i}`));
    const restarting = server.restart({ downtimeMs: 150 });
    server.store.put('endpointslices', slice('web-abc', 'default'));
    server.store.delete('services', 's0');
    server.store.put('nodes', node('node-1'));
    await restarting;
    server.store.put('pods', pod('p-after-restart', 'node-1'));
    await expectConverges(c, 'after restart()');
    const afterRestart = c.stats();
    expect(afterRestart.restarts).toBeGreaterThanOrEqual(1);

    // 2. Watches cut mid-burst: events in flight are lost on the wire and replayed on resume.
    await waitFor(() => server.openWatches === 4, 'watches back after restart');
    for (let i = 0; i < 30; i++) server.store.put('services', svc(`s${i}`, i % 2 === 0 ? 'default' : 'shop', 8000 + i));
    expect(server.cutWatches()).toBe(4);
    for (let i = 0; i < 10; i++) server.store.delete('pods', `p${i}`);
    server.store.put('endpointslices', slice('web-abc', 'default', '10.0.0.7'));
    await expectConverges(c, 'after cutWatches()');

    // 3. Cut, change, compact before the informers come back: resuming gets 410 → relist.
    await waitFor(() => server.openWatches === 4, 'watches back after the cut');
    expect(server.cutWatches()).toBe(4);
    server.store.delete('services', 's1');
    server.store.put('services', svc('s2', 'default', 9999));
    server.store.put('nodes', node('node-2'));
    server.store.delete('endpointslices', 'web-abc', 'default');
    server.store.put('pods', pod('p-after-compact', 'node-2'));
    server.compact();
    await expectConverges(c, 'after compact()');
    expect(c.services().find((s) => s.metadata?.name === 's2')?.spec?.ports?.[0]?.port).toBe(9999);
    await waitFor(() => c.stats().relists >= 1, 'a relist after 410');
    expect(changes).toBeGreaterThan(0);
  });

  it('a watch expired in-stream (HTTP 200, ERROR 410 Status) relists even when a transform shapes the objects', async () => {
    // The transform keeps only what a director reads of a Service: a Status has none of it. The
    // ERROR event must reach client-node whole, or it never learns of the 410 and re-watches
    // from the expired resourceVersion again and again.
    // A row of the fault matrix (bench/results/faults.json, issue 13).
    const saw = 'nothing to act on: readiness stayed ok, one relist, no 410 counted as an informer error';
    const record = await faultScenario('a watch expired in-stream (HTTP 200, one ERROR event with a 410 Status)', saw);
    const c = cache({ kinds: ['services'], transform: desiredStateTransforms, relistIntervalMs: 0 });
    server.store.put('services', svc('a'));
    await c.start();
    await waitFor(() => server.openWatches === 1, 'the watch open');
    expect(server.cutWatches()).toBe(1);
    server.store.put('services', svc('a', 'default', 8080)); // made while the watch was gone…
    server.compact(); // …and the history that would replay it is compacted: resuming gets 410 in-stream
    const expired = Date.now();
    await waitFor(
      () => c.services()[0]?.spec?.ports?.[0]?.port === 8080,
      () => `the change made while the watch was expired (have port ${c.services()[0]?.spec?.ports?.[0]?.port}; ${server.requests.filter((r) => r.query['watch'] === 'true').length} watch requests)`,
      3000,
    );
    const recoverySeconds = secondsSince(expired);
    expect(c.stats().relists).toBeGreaterThanOrEqual(1);
    // One watch before the cut, the one answered 410, the one after the relist: no loop.
    const watches = server.requests.filter((r) => r.query['watch'] === 'true').length;
    expect(watches).toBeLessThanOrEqual(4);
    const lists = server.requests.filter((r) => r.query['watch'] !== 'true').length;
    expect(lists).toBe(2); // the first list and one relist: no relist storm
    expect(c.readiness().ok).toBe(true);
    // The one error counted is the cut connection; the 410 itself is no error.
    const counted = (await Promise.all(c.metrics().map(async (m) => (await m.get()).values))).flat().map((v) => `${String(v.labels['code'])}=${v.value}`);
    expect(counted.filter((v) => v.startsWith('410'))).toEqual([]);
    await record({ recoverySeconds, lostServices: 0, droppedConnections: null, operatorSaw: `${saw} (${lists} lists, ${watches} watch requests in all; informer errors counted: ${counted.join(', ') || 'none'}, the cut connection)` });
  });

  it('a watch that fails is restarted with capped exponential backoff; the counter resets once connected', async () => {
    const delays: number[] = [];
    const c = cache({
      kinds: ['nodes'],
      restartDelayMs: { min: 10, max: 40 },
      random: () => 0.5, // no jitter
      relistIntervalMs: 0,
      timers: {
        setTimeout: (fn, ms) => {
          delays.push(ms);
          return setTimeout(fn, ms);
        },
      },
    });
    await server.stop(); // connection refused
    const started = c.start();
    await waitFor(() => delays.length >= 5, 'five restart attempts');
    expect(delays.slice(0, 5)).toEqual([10, 20, 40, 40, 40]);
    expect(c.synced()).toBe(false);

    await server.restart();
    server.store.put('nodes', node('node-a'));
    await started;
    await waitFor(() => c.nodes().length === 1, 'node-a after the server came up');
    expect(c.stats().restarts).toBeGreaterThanOrEqual(5);

    delays.length = 0;
    await waitFor(() => server.openWatches === 1, 'watch open');
    server.cutWatches();
    server.store.put('nodes', node('node-b'));
    await waitFor(() => c.nodes().length === 2, 'node-b after the cut');
    expect(delays[0]).toBe(10); // back to the minimum
  });

  it('relists periodically (relistIntervalMs), repairing what a silent watch would miss', async () => {
    const c = cache({ kinds: ['services'], relistIntervalMs: 100 });
    server.store.put('services', svc('a'));
    await c.start();
    await waitFor(() => c.stats().relists >= 2, 'two periodic relists');
    const lists = server.requests.filter((r) => r.path === '/api/v1/services' && r.query['watch'] === undefined);
    expect(lists.length).toBeGreaterThanOrEqual(3);
    expect(inSync(c, ['services'])).toBe(true);
    expect(c.stats().restarts).toBe(0);
  });
});

describe('ClusterCache stop()', () => {
  it('closes every watch and leaves no timers behind', async () => {
    const c = cache({ relistIntervalMs: 60_000 });
    await c.start();
    await waitFor(() => server.openWatches === 4, 'four watches');
    await c.stop();
    await waitFor(() => server.openWatches === 0, 'no watches open');
    const before = server.requests.length;
    server.store.put('services', svc('late'));
    await new Promise((resolve) => setTimeout(resolve, 50)); // give a leaked watch a chance to show
    expect(server.requests.length).toBe(before);
    expect(c.services()).toEqual([]);
  });

  it('stop() while the server is down cancels the pending restart; start() then rejects', async () => {
    await server.stop();
    const c = cache({ restartDelayMs: { min: 50, max: 50 } });
    const started = c.start();
    await waitFor(() => c.stats().restarts >= 1, 'a restart attempt');
    await c.stop();
    await expect(started).rejects.toThrow('cluster cache stopped');
    const restarts = c.stats().restarts;
    await server.restart();
    await new Promise((resolve) => setTimeout(resolve, 120)); // longer than the restart delay
    expect(c.stats().restarts).toBe(restarts);
    expect(server.requests).toEqual([]);
  });

  it('stop() returns even when a request never gets an answer (a silent server), and says so', async () => {
    const silent = createServer(); // accepts connections, never answers
    const sockets = new Set<Socket>();
    silent.on('connection', (s) => sockets.add(s));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = silent.address() as AddressInfo;
      const c = createClusterCache(testKubeConfig(`http://127.0.0.1:${port}`), { kinds: ['services'], ...FAST, stopTimeoutMs: 200 });
      const started = c.start();
      started.catch(() => undefined);
      await waitFor(() => sockets.size > 0, 'the list request reaches the silent server');
      await c.stop();
      await expect(started).rejects.toThrow('cluster cache stopped');
      expect(c.stats().abandonedRequests).toBeGreaterThan(0); // (the informer's start and its list request)
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => silent.close(resolve));
    }
  });

  it('stop() in the middle of the initial list opens no watch afterwards', async () => {
    for (let i = 0; i < 200; i++) server.store.put('pods', pod(`p${i}`, 'node-a'));
    const c = cache();
    const started = c.start();
    started.catch(() => undefined);
    await waitFor(() => server.requests.length > 0, 'a request');
    await c.stop();
    await waitFor(() => server.openWatches === 0, 'watches closed'); // the server sees the close a moment later
    const after = server.requests.length;
    await new Promise((resolve) => setTimeout(resolve, 50)); // give a leaked restart a chance to show
    expect(server.openWatches).toBe(0);
    expect(server.requests.length).toBe(after);
  });
});
