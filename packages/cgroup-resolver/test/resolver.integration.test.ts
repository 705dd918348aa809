import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import {
  addLocalAddresses,
  churnViolations,
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
  type AppliedSet,
  type IdentityServers,
  type ResolverClient,
} from '@balanced/testkit';
import { startResolver, type RunningResolver } from '../src/app.js';
import { hostNetnsCookie } from '../src/loader/resolver-programs.js';
import { ResolverMaps } from '../src/maps/resolver-maps.js';
import { BACKENDS, eventually, node, NODE, NODE_IP, OTHER_NODE, resolvedBackends, service, sharesOf, slice, TARGET_PORT, type BackendName } from './support/resolver-e2e.js';

// The agent (real client-node → test API server over HTTP) programming the real BPF programs
// on this kernel. Programs attach to a test-made cgroup only, pins go to a test-made bpffs
// folder; every client runs in that cgroup and then in a test-made netns where the backends
// (identity servers) live on addresses that exist only there. A connection that is not
// rewritten has nowhere to go (the netns has no route to any Service address).

let server: TestApiServer;
let netns: string;
let cgroup: string;
let pinRoot: string;
let dir: string;
let servers: IdentityServers;
let client: ResolverClient;
let running: RunningResolver | undefined;

const put = (resource: string, object: object) => server.store.put(resource, object);
const tcp = (address: string, count: number, concurrency = 8) => client.tcp({ address, port: 80, count, concurrency });
const resolved = (address: string, protocol: 'TCP' | 'UDP' = 'TCP') => resolvedBackends(pinRoot, address, protocol === 'TCP' ? 80 : 53, protocol);
const until = (address: string, want: readonly string[], protocol: 'TCP' | 'UDP' = 'TCP') =>
  eventually(`${address} → ${want.join(',')}`, () => resolved(address, protocol), (r) => JSON.stringify(r) === JSON.stringify([...want].sort()));

beforeAll(async () => {
  await ensureBpffs();
  server = await TestApiServer.start({ bookmarkIntervalMs: 500 });
  netns = await createNetns();
  cgroup = await createTestCgroup('bdr');
  pinRoot = await createTestPinRoot('bdr');
  await addLocalAddresses(netns, [...Object.values(BACKENDS).map((b) => b.address), NODE_IP]);
  servers = await startIdentityServers({
    netns,
    listeners: Object.entries(BACKENDS).map(([name, b]) => ({ name, address: b.address, port: TARGET_PORT })),
  });
  client = await startResolverClient({ netns, cgroup });
  dir = mkdtempSync(join(tmpdir(), 'bdr-'));
  writeFileSync(join(dir, 'kubeconfig'), server.kubeconfigYaml(), { mode: 0o600 });
  put('nodes', node(NODE, NODE_IP));
  put('nodes', node(OTHER_NODE, '10.250.0.2'));
  running = await startResolver(
    {
      kubeconfig: join(dir, 'kubeconfig'),
      nodeName: NODE,
      cgroupPath: cgroup,
      pinRoot,
      hostNetnsOnly: false,
      events: false,
      terminateSockets: true,
      resyncSeconds: 30,
      metricsHost: '127.0.0.1',
      metricsPort: 0,
    },
    pino({ level: 'silent' }),
  );
});

afterAll(async () => {
  await running?.stop();
  await client?.stop();
  await servers?.stop();
  if (pinRoot) await removeTestPinRoot(pinRoot);
  if (cgroup) await removeTestCgroup(cgroup);
  if (netns) await deleteNetns(netns);
  await server?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('cgroup-resolver agent ↔ test API server ↔ BPF on this kernel', () => {
  test('TCP to a ClusterIP reaches only ready backends, in equal shares (±5%) over 10,000 connects; getpeername reports the Service', async () => {
    put('services', service({ name: 'web', clusterIPs: ['10.96.0.10'] }));
    put('endpointslices', slice('web', ['a1', 'a2', 'b1', ['a3', 'not-ready']]));
    await until('10.96.0.10', ['a1', 'a2', 'b1']);
    const r = await tcp('10.96.0.10', 10_000);
    expect(r.failures).toEqual({});
    expect(r.counts.a3).toBeUndefined();
    for (const share of Object.values(sharesOf(r.counts, ['a1', 'a2', 'b1']))) expect(Math.abs(share - 1 / 3)).toBeLessThan(0.05 / 3);
    expect(r.peers).toEqual({ '10.96.0.10:80': 10_000 });
    const ready = await fetch(`${running!.health.url}/readyz`);
    expect(ready.status).toBe(200);
  });

  test('a removed backend is never chosen once the change is applied', async () => {
    put('endpointslices', slice('web', ['a1', 'b1']));
    await until('10.96.0.10', ['a1', 'b1']);
    const r = await tcp('10.96.0.10', 2_000);
    expect(Object.keys(r.counts).sort()).toEqual(['a1', 'b1']);
    expect(r.failures).toEqual({});
  });

  test('unconnected UDP: replies come from the Service address and one socket keeps one backend; connected UDP sees the Service as its peer', async () => {
    await until('10.96.0.10', ['a1', 'b1'], 'UDP');
    const u = await client.udpUnconnected({ address: '10.96.0.10', port: 53, count: 50 });
    expect(u.failures).toEqual({});
    expect(u.sources).toEqual({ '10.96.0.10:53': 50 });
    expect(Object.keys(u.counts)).toHaveLength(1);
    const c = await client.udpConnected({ address: '10.96.0.10', port: 53, count: 20 });
    expect(c.failures).toEqual({});
    expect(c.peers).toEqual({ '10.96.0.10:53': 20 });
  });

  test('no usable endpoint: serving-terminating ones are used; none at all fails at once with ECONNREFUSED', async () => {
    put('services', service({ name: 'drain', clusterIPs: ['10.96.0.20'] }));
    put('endpointslices', slice('drain', [['a2', 'terminating'], ['a3', 'not-ready']]));
    await until('10.96.0.20', ['a2']);
    expect((await tcp('10.96.0.20', 50)).counts).toEqual({ a2: 50 });
    put('endpointslices', slice('drain', [['a3', 'not-ready']]));
    await until('10.96.0.20', []);
    for (const protocol of ['tcp', 'udp-connect', 'udp-send'] as const) {
      const attempts = await client.refused({ address: '10.96.0.20', port: protocol === 'tcp' ? 80 : 53, protocol, count: 20 });
      for (const a of attempts) expect(a).toMatchObject({ ok: false, error: 'ECONNREFUSED' });
      // At once: the median attempt (one scheduling hiccup of a loaded CI machine aside).
      const ms = attempts.map((a) => a.ms).sort((x, y) => x - y);
      expect(ms[Math.floor(ms.length / 2)]).toBeLessThan(10);
    }
  });

  test('ClientIP affinity holds across reconnects and moves when its backend goes away', async () => {
    put('services', service({ name: 'sticky', clusterIPs: ['10.96.0.30'], affinitySeconds: 600 }));
    put('endpointslices', slice('sticky', ['a1', 'a2', 'a4', 'b1']));
    await until('10.96.0.30', ['a1', 'a2', 'a4', 'b1']);
    const first = await tcp('10.96.0.30', 200);
    expect(Object.keys(first.counts)).toHaveLength(1);
    const chosen = Object.keys(first.counts)[0] as BackendName;
    const rest = (['a1', 'a2', 'a4', 'b1'] as const).filter((b) => b !== chosen);
    put('endpointslices', slice('sticky', rest));
    await until('10.96.0.30', rest);
    const second = await tcp('10.96.0.30', 200);
    expect(Object.keys(second.counts)).toHaveLength(1);
    expect(second.counts[chosen]).toBeUndefined();
  });

  test('internalTrafficPolicy: Local takes only this node\'s endpoints, and with none fails at once (no silent fallback)', async () => {
    put('services', service({ name: 'local', clusterIPs: ['10.96.0.40'], internalTrafficPolicy: 'Local' }));
    put('endpointslices', slice('local', ['a1', 'b1', 'b2']));
    await until('10.96.0.40', ['a1']);
    expect((await tcp('10.96.0.40', 100)).counts).toEqual({ a1: 100 });
    put('services', service({ name: 'remote', clusterIPs: ['10.96.0.41'], internalTrafficPolicy: 'Local' }));
    put('endpointslices', slice('remote', ['b1', 'b2']));
    await until('10.96.0.41', []);
    expect(await client.refused({ address: '10.96.0.41', port: 80 })).toMatchObject([{ ok: false, error: 'ECONNREFUSED' }]);
  });

  test('externalTrafficPolicy: Local concerns only traffic from outside: the LoadBalancer IP and the NodePort on this node use every endpoint', async () => {
    put('services', service({ name: 'edge', type: 'LoadBalancer', clusterIPs: ['10.96.0.45'], ingress: ['10.97.0.1'], nodePort: 30080, externalTrafficPolicy: 'Local' }));
    put('endpointslices', slice('edge', ['a1', 'b1']));
    await until('10.97.0.1', ['a1', 'b1']);
    expect(Object.keys((await tcp('10.97.0.1', 400)).counts).sort()).toEqual(['a1', 'b1']);
    const nodePort = await client.tcp({ address: NODE_IP, port: 30080, count: 400, concurrency: 8 });
    expect(nodePort.failures).toEqual({});
    expect(Object.keys(nodePort.counts).sort()).toEqual(['a1', 'b1']);
  });

  test('a process outside the resolver\'s cgroup is untouched (its connect has nowhere to go)', async () => {
    const outside = await startResolverClient({ netns });
    try {
      const r = await outside.tcp({ address: '10.96.0.10', port: 80, count: 3 });
      expect(r.counts).toEqual({});
      expect(Object.keys(r.failures)).toEqual(['ENETUNREACH']);
    } finally {
      await outside.stop();
    }
  });

  test('host-netns-only mode: a process in its own network namespace (a pod\'s) is left alone', async () => {
    const maps = ResolverMaps.open(pinRoot);
    try {
      maps.writeConfig({ hostNetnsCookie: hostNetnsCookie(), hostNetnsOnly: true, events: false });
      const r = await tcp('10.96.0.10', 3, 1);
      expect(r.counts).toEqual({});
      expect(Object.keys(r.failures)).toEqual(['ENETUNREACH']);
    } finally {
      maps.writeConfig({ hostNetnsCookie: hostNetnsCookie(), hostNetnsOnly: false, events: false });
      maps.close();
    }
    expect((await tcp('10.96.0.10', 3, 1)).failures).toEqual({});
  });

  test('IPv6 and IPv4-mapped addresses: a dual-stack Service resolves per family', async () => {
    put('services', service({ name: 'dual', clusterIPs: ['10.96.0.50', 'fd00:96::50'] }));
    put('endpointslices', slice('dual', ['a1', 'a2']));
    put('endpointslices', slice('dual', ['v61', 'v62'], 'IPv6'));
    await until('fd00:96::50', ['v61', 'v62']);
    await until('10.96.0.50', ['a1', 'a2']);
    const v6 = await tcp('fd00:96::50', 400);
    expect(v6.failures).toEqual({});
    expect(Object.keys(v6.counts).sort()).toEqual(['v61', 'v62']);
    expect(v6.peers).toEqual({ '[fd00:96::50]:80': 400 });
    const mapped = await tcp('::ffff:10.96.0.50', 400);
    expect(mapped.failures).toEqual({});
    expect(Object.keys(mapped.counts).sort()).toEqual(['a1', 'a2']);
    expect(mapped.peers).toEqual({ '[::ffff:10.96.0.50]:80': 400 });
    const udp6 = await client.udpUnconnected({ address: 'fd00:96::50', port: 53, count: 10 });
    expect(udp6.sources).toEqual({ '[fd00:96::50]:53': 10 });
  });

  test('sockets to a removed backend are closed: an established TCP connection and a connected UDP socket see an error and reconnect to a live backend', async () => {
    put('services', service({ name: 'held', clusterIPs: ['10.96.0.70'] }));
    put('endpointslices', slice('held', ['a1']));
    await until('10.96.0.70', ['a1']);
    const heldTcp = await client.hold({ address: '10.96.0.70', port: 80, protocol: 'tcp' });
    const heldUdp = await client.hold({ address: '10.96.0.70', port: 53, protocol: 'udp' });
    expect(heldTcp.opened.backend).toBe('a1');
    expect(heldUdp.opened.backend).toBe('a1');
    put('endpointslices', slice('held', ['a2']));
    for (const held of [heldTcp, heldUdp]) {
      const { events, timedOut } = await held.waitForEvents(2, 10_000);
      expect(timedOut).toBe(false);
      expect(events[0]).toMatchObject({ kind: 'closed', backend: 'a1' });
      expect(events[1]).toMatchObject({ kind: 'reconnected', backend: 'a2' });
      await held.stop();
    }
  });

  test('churn: a client connecting all the time while backends come, go and scale to zero and back (200 changes): no failure while a backend exists, no connect to a backend after its removal was applied', async () => {
    put('services', service({ name: 'churn', clusterIPs: ['10.96.0.60'] }));
    const sets: BackendName[][] = [];
    const pool: BackendName[] = ['a1', 'a2', 'a3', 'a4', 'b1', 'b2'];
    let seed = 7;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
    for (let i = 0; i < 200; i++) sets.push(i % 25 === 12 ? [] : pool.filter(() => random() < 0.5));
    put('endpointslices', slice('churn', ['a1']));
    await until('10.96.0.60', ['a1']);
    /** When each set was in the maps: [time applied (ms, wall clock), set]. */
    const applied: AppliedSet[] = [[performance.timeOrigin + performance.now(), ['a1']]];
    const loop = await client.startLoop({ address: '10.96.0.60', port: 80, timeoutMs: 2000 });
    for (const set of sets) {
      put('endpointslices', slice('churn', set));
      await until('10.96.0.60', set);
      applied.push([performance.timeOrigin + performance.now(), [...set].sort()]);
      await new Promise((r) => setTimeout(r, 5));
    }
    const result = await loop.stop();
    expect(result.timeline.length).toBeGreaterThan(500);
    expect(churnViolations(result.timeline, result.origin, applied)).toEqual([]);
  });
});
