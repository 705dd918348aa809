import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes, randomUUID } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import type { Redis } from 'ioredis';
import {
  addLocalAddresses,
  addressFrontend,
  bp,
  createNetns,
  createTestCgroup,
  createTestPinRoot,
  deleteNetns,
  ensureBpffs,
  removeTestCgroup,
  removeTestPinRoot,
  startIdentityServers,
  startResolverClient,
  TestApiServer,
  type IdentityServers,
  type ResolverClient,
} from '@balanced/testkit';
import { startResolver, type RunningResolver } from '../src/app.js';
import { eventually, node, NODE, NODE_IP, OTHER_NODE, NAMESPACE, service, slice, TARGET_PORT, BACKENDS } from './support/resolver-e2e.js';
import { policyServiceKey } from '../src/desired/policy-candidates.js';
import { redisServerAvailable, TestRedis } from './support/redis-server.js';

// Resolution events end to end: the real BPF programs on this kernel write them to the ring
// buffer, the resolver reads them, names the client pod from a kubelet-shaped cgroup made by
// the test (and the pod in the test API server), and writes them to a real redis-server.
// Clients run in test-made cgroups and a test-made netns only.

const skip = !redisServerAvailable() && process.env.CI !== 'true';
if (skip) process.stdout.write('SKIPPED: events integration test: redis-server is not installed (apt-get install redis-server)\n');
const suite = skip ? describe.skip : describe;

const STREAM = 'test:resolver:events';
// Large enough for every burst of the first tests (the reader hands over ~10 ms of events at once).
const QUEUE_LIMIT = 1000;
const OUTAGE_CONNECTS = 3000;
const VIP = '10.96.0.10';
const PROBE_VIP = '10.96.0.30';
/** A BalancingPolicy's addressMatcher frontend. */
const POLICY_VIP = '10.96.0.40';

let server: TestApiServer;
let netns: string;
let cgroup: string;
let pinRoot: string;
let dir: string;
let servers: IdentityServers;
let podClient: ResolverClient;
let hostClient: ResolverClient;
let running: RunningResolver | undefined;
let redis: TestRedis;
let reader: Redis | undefined;

const podUid = randomUUID();
const containerId = randomBytes(32).toString('hex');

async function metric(name: string, labels: Record<string, string> = {}): Promise<number> {
  const text = await (await fetch(`${running!.health.url}/metrics`)).text();
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (!Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) continue;
    sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}

type Entry = Record<string, string>;
/** Stream entries, probe entries left out. */
async function entries(): Promise<Entry[]> {
  const raw = await reader!.xrange(STREAM, '-', '+');
  return raw
    .map(([, fields]) => Object.fromEntries(Array.from({ length: fields.length / 2 }, (_, i) => [fields[2 * i]!, fields[2 * i + 1]!])) as Entry)
    .filter((e) => e['frontend'] !== `${PROBE_VIP}:80`);
}

beforeAll(async () => {
  if (skip) return;
  await ensureBpffs();
  redis = new TestRedis();
  await redis.start();
  reader = redis.client();
  server = await TestApiServer.start({
    bookmarkIntervalMs: 500,
    customResources: [
      { group: 'balanced.dev', version: 'v1alpha1', plural: 'localredirectpolicies', kind: 'LocalRedirectPolicy', namespaced: false },
      { group: 'balanced.dev', version: 'v1alpha1', plural: 'balancingpolicies', kind: 'BalancingPolicy', namespaced: false },
    ],
  });
  netns = await createNetns();
  cgroup = await createTestCgroup('bdre');
  pinRoot = await createTestPinRoot('bdre');
  await addLocalAddresses(netns, [BACKENDS.a1.address, BACKENDS.a2.address, NODE_IP]);
  servers = await startIdentityServers({
    netns,
    listeners: (['a1', 'a2'] as const).map((name) => ({ name, address: BACKENDS[name].address, port: TARGET_PORT })),
  });
  // The kubelet's cgroupfs layout: <root>/kubepods/besteffort/pod<uid>/<container id>.
  const containerCgroup = join(cgroup, 'kubepods', 'besteffort', `pod${podUid}`, containerId);
  mkdirSync(containerCgroup, { recursive: true });
  podClient = await startResolverClient({ netns, cgroup: containerCgroup });
  const hostCgroup = join(cgroup, 'system.slice');
  mkdirSync(hostCgroup);
  hostClient = await startResolverClient({ netns, cgroup: hostCgroup });
  dir = mkdtempSync(join(tmpdir(), 'bdre-'));
  writeFileSync(join(dir, 'kubeconfig'), server.kubeconfigYaml(), { mode: 0o600 });
  server.store.put('nodes', node(NODE, NODE_IP));
  server.store.put('nodes', node(OTHER_NODE, '10.250.0.2'));
  server.store.put('pods', {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'checkout-7d4f9', namespace: NAMESPACE, uid: podUid },
    spec: { nodeName: NODE, containers: [{ name: 'app', image: 'app:1' }] },
    status: { phase: 'Running', containerStatuses: [{ name: 'app', containerID: `containerd://${containerId}`, ready: true, restartCount: 0, image: 'app:1', imageID: '' }] },
  });
  // A pod of another node with the same container id must not be the one named.
  server.store.put('pods', {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'elsewhere', namespace: NAMESPACE, uid: randomUUID() },
    spec: { nodeName: OTHER_NODE, containers: [{ name: 'other', image: 'app:1' }] },
    status: { phase: 'Running', containerStatuses: [{ name: 'other', containerID: `containerd://${containerId}`, ready: true, restartCount: 0, image: 'app:1', imageID: '' }] },
  });
  server.store.put('services', service({ name: 'web', clusterIPs: [VIP] }));
  server.store.put('endpointslices', slice('web', ['a1', 'a2']));
  // Probed until the agent has programmed the maps; its events are left out of every count.
  server.store.put('services', service({ name: 'probe', clusterIPs: [PROBE_VIP] }));
  server.store.put('endpointslices', slice('probe', ['a1']));
  running = await startResolver(
    {
      kubeconfig: join(dir, 'kubeconfig'),
      nodeName: NODE,
      cgroupPath: cgroup,
      pinRoot,
      hostNetnsOnly: false,
      events: true,
      eventsOutput: { log: { sample: 1, perSecond: 0 }, redis: { url: redis.url, stream: STREAM, maxLen: 100_000, queueLimit: QUEUE_LIMIT } },
      terminateSockets: false,
      resyncSeconds: 30,
      metricsHost: '127.0.0.1',
      metricsPort: 0,
    },
    pino({ level: 'silent' }),
  );
  await eventually('Redis connected', () => running!.resolutionEvents!.redis!.connected, (c) => c);
  await eventually('the Services resolve', () => podClient.tcp({ address: PROBE_VIP, port: 80, count: 1, concurrency: 1 }), (r) => Object.keys(r.failures).length === 0);
  await eventually('the Services resolve', () => podClient.tcp({ address: VIP, port: 80, count: 1, concurrency: 1 }), (r) => Object.keys(r.failures).length === 0);
  // The second probe's one entry: from here on every entry naming VIP is the tests'.
  await eventually('probe entry written', () => entries(), (e) => e.some((x) => x['frontend'] === `${VIP}:80`));
  await reader.del(STREAM);
});

afterAll(async () => {
  if (skip) return;
  await running?.stop();
  reader?.disconnect();
  await podClient?.stop();
  await hostClient?.stop();
  await servers?.stop();
  if (pinRoot) await removeTestPinRoot(pinRoot);
  if (cgroup) await removeTestCgroup(cgroup);
  if (netns) await deleteNetns(netns);
  await server?.stop();
  await redis?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

suite('resolution events: ring buffer → pod names → Redis stream, counters', () => {
  test('N connects from a pod and M from a host process become N + M stream entries naming the pod, its container, or the host process', async () => {
    const before = await metric('balanced_resolver_resolutions_total', { service: 'shop/web:http/TCP IPv4', result: 'resolved' });
    const N = 300;
    const M = 50;
    const fromPod = await podClient.tcp({ address: VIP, port: 80, count: N, concurrency: 8 });
    const fromHost = await hostClient.tcp({ address: VIP, port: 80, count: M, concurrency: 4 });
    expect(fromPod.failures).toEqual({});
    expect(fromHost.failures).toEqual({});
    const all = await eventually('N + M entries', () => entries(), (e) => e.length >= N + M);
    expect(all).toHaveLength(N + M);
    const pod = all.filter((e) => e['client'] === 'pod');
    const host = all.filter((e) => e['client'] === 'host');
    expect(pod).toHaveLength(N);
    expect(host).toHaveLength(M);
    for (const e of pod) {
      expect(e).toMatchObject({
        result: 'resolved',
        hook: 'connect4',
        protocol: 'TCP',
        kind: 'service',
        frontend: `${VIP}:80`,
        service: 'shop/web:http/TCP IPv4',
        object: 'shop/web',
        namespace: NAMESPACE,
        pod: 'checkout-7d4f9',
        container: 'app',
        pod_uid: podUid,
      });
      expect([`${BACKENDS.a1.address}:${TARGET_PORT}`, `${BACKENDS.a2.address}:${TARGET_PORT}`]).toContain(e['backend']);
    }
    // The host client is a node process, like this one: its connecting (main) thread has the
    // name this runtime gives its main thread ("node" up to Node 22, "MainThread" from Node 24).
    const nodeMainThread = readFileSync('/proc/self/comm', 'utf8').trim();
    for (const e of host) expect(e).toMatchObject({ result: 'resolved', frontend: `${VIP}:80`, namespace: '', pod: '', comm: nodeMainThread });
    // Each entry's backend is the one the client reached.
    const backends = (list: Entry[]) => list.reduce<Record<string, number>>((acc, e) => ({ ...acc, [e['backend'] === `${BACKENDS.a1.address}:${TARGET_PORT}` ? 'a1' : 'a2']: (acc[e['backend'] === `${BACKENDS.a1.address}:${TARGET_PORT}` ? 'a1' : 'a2'] ?? 0) + 1 }), {});
    expect(backends(all)).toEqual(Object.fromEntries(Object.entries({ a1: (fromPod.counts['a1'] ?? 0) + (fromHost.counts['a1'] ?? 0), a2: (fromPod.counts['a2'] ?? 0) + (fromHost.counts['a2'] ?? 0) }).filter(([, n]) => n > 0)));
    expect((await metric('balanced_resolver_resolutions_total', { service: 'shop/web:http/TCP IPv4', result: 'resolved' })) - before).toBe(N + M);
    expect(await metric('balanced_resolver_events_ring_lost_total')).toBe(0);
  });

  test('a refused connect is an entry with its reason and a failure counted by reason', async () => {
    await reader!.del(STREAM);
    server.store.put('services', service({ name: 'empty', clusterIPs: ['10.96.0.20'] }));
    server.store.put('endpointslices', slice('empty', [['a1', 'not-ready']]));
    await eventually('empty Service refuses', () => podClient.refused({ address: '10.96.0.20', port: 80, protocol: 'tcp', count: 1 }), (a) => a.every((x) => !x.ok && x.error === 'ECONNREFUSED'));
    const before = await metric('balanced_resolver_resolution_failures_total', { reason: 'refused' });
    const attempts = await podClient.refused({ address: '10.96.0.20', port: 80, protocol: 'tcp', count: 5 });
    expect(attempts.every((a) => a.error === 'ECONNREFUSED')).toBe(true);
    const got = await eventually('5 refused entries', () => entries(), (e) => e.filter((x) => x['frontend'] === '10.96.0.20:80').length >= 5);
    const refused = got.filter((x) => x['frontend'] === '10.96.0.20:80');
    expect(refused.length).toBeGreaterThanOrEqual(5);
    for (const e of refused) expect(e).toMatchObject({ result: 'refused', backend: '', service: 'shop/empty:http/TCP IPv4', pod: 'checkout-7d4f9' });
    await eventually('failures counted', () => metric('balanced_resolver_resolution_failures_total', { reason: 'refused' }), (n) => n - before >= 5);
  });

  test('connects through a BalancingPolicy frontend are entries naming the policy (kind/name) and counted under its key', async () => {
    await reader!.del(STREAM);
    server.store.put(
      'balancingpolicies',
      bp('legacy-web', { frontend: addressFrontend(POLICY_VIP), backend: { addressEndpoint: { addresses: [BACKENDS.a2.address], toPorts: [{ port: TARGET_PORT, protocol: 'TCP' }] } } }),
    );
    // Unprogrammed, the address goes nowhere (no event); the one connect that resolves is one entry.
    await eventually('the policy resolves', () => podClient.tcp({ address: POLICY_VIP, port: 80, count: 1, concurrency: 1 }), (r) => Object.keys(r.failures).length === 0, 20_000, 50);
    const mine = (list: Entry[]) => list.filter((e) => e['frontend'] === `${POLICY_VIP}:80`);
    // That entry written (so counted) before the counter is read.
    await eventually('the first policy entry', () => entries(), (e) => mine(e).length >= 1);
    const key = policyServiceKey('BalancingPolicy', 'legacy-web', 80, 'TCP', 'IPv4');
    const before = await metric('balanced_resolver_resolutions_total', { service: key, kind: 'balancing', result: 'resolved' });
    expect(before).toBe(1);
    const K = 25;
    const r = await podClient.tcp({ address: POLICY_VIP, port: 80, count: K, concurrency: 4 });
    expect(r).toMatchObject({ counts: { a2: K }, failures: {} });
    const got = mine(await eventually('K + 1 policy entries', () => entries(), (e) => mine(e).length >= K + 1));
    expect(got).toHaveLength(K + 1);
    for (const e of got) {
      expect(e).toMatchObject({
        result: 'resolved',
        kind: 'balancing',
        service: key,
        object: 'BalancingPolicy/legacy-web',
        backend: `${BACKENDS.a2.address}:${TARGET_PORT}`,
        pod: 'checkout-7d4f9',
        container: 'app',
      });
    }
    await eventually('resolutions counted under the policy', () => metric('balanced_resolver_resolutions_total', { service: key, kind: 'balancing', result: 'resolved' }), (n) => n - before === K);
    server.store.delete('balancingpolicies', 'legacy-web');
    await eventually('the policy frontend removed', () => podClient.tcp({ address: POLICY_VIP, port: 80, count: 1 }), (x) => Object.keys(x.failures).join() === 'ENETUNREACH', 20_000, 50);
  });

  test('Redis killed mid-run: every connect still resolves, events beyond the queue are dropped and counted, entries resume once Redis is back', async () => {
    const droppedBefore = await metric('balanced_resolver_events_redis_dropped_total', { reason: 'queue-full' });
    await redis.kill();
    await eventually('the sink sees Redis gone', () => running!.resolutionEvents!.redis!.connected, (c) => !c);
    const pipeline = running!.resolutionEvents!.pipeline;
    const handledBefore = pipeline.handled;
    const during = await podClient.tcp({ address: VIP, port: 80, count: OUTAGE_CONNECTS, concurrency: 8 });
    expect(during.failures).toEqual({});
    expect(Object.values(during.counts).reduce((a, b) => a + b, 0)).toBe(OUTAGE_CONNECTS);
    // Every event was still read and handled (counted), Redis or not.
    await eventually('every event handled', () => pipeline.handled - handledBefore, (n) => n >= OUTAGE_CONNECTS);
    expect(pipeline.handled - handledBefore).toBe(OUTAGE_CONNECTS);
    // What does not fit the queue is dropped and counted.
    expect(running!.resolutionEvents!.redis!.pending).toBe(QUEUE_LIMIT);
    const dropped = (await metric('balanced_resolver_events_redis_dropped_total', { reason: 'queue-full' })) - droppedBefore;
    expect(dropped).toBe(OUTAGE_CONNECTS - QUEUE_LIMIT);

    await redis.start();
    reader!.disconnect();
    reader = redis.client();
    await eventually('the sink reconnects by itself', () => running!.resolutionEvents!.redis!.connected, (c) => c, 30_000);
    const after = await podClient.tcp({ address: VIP, port: 80, count: 200, concurrency: 8 });
    expect(after.failures).toEqual({});
    // The new server starts empty: the queued events (a full queue) and the 200 new ones.
    const got = await eventually('entries resume', () => entries(), (e) => e.length >= 200 + QUEUE_LIMIT);
    expect(got).toHaveLength(200 + QUEUE_LIMIT);
    for (const e of got) expect(e).toMatchObject({ pod: 'checkout-7d4f9', container: 'app', frontend: `${VIP}:80`, result: 'resolved' });
  });
});
