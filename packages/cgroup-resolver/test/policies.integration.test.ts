import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import {
  addLocalAddresses,
  bp,
  createNetns,
  createTestCgroup,
  createTestPinRoot,
  deleteNetns,
  ensureBpffs,
  lrp,
  removeTestCgroup,
  removeTestPinRoot,
  startIdentityServers,
  startResolverClient,
  TestApiServer,
  type IdentityServers,
  type ResolverClient,
} from '@balanced/testkit';
import { startResolver, type RunningResolver } from '../src/app.js';
import { BACKENDS, eventually, NAMESPACE, node, NODE, NODE_IP, OTHER_NODE, service, slice, TARGET_PORT, type BackendName } from './support/resolver-e2e.js';

// LocalRedirectPolicy and BalancingPolicy end to end (issue 15): the agent (real client-node →
// test API server over HTTP, with the policy CRDs) programming the real BPF programs on this
// kernel, attached to a test-made cgroup; clients in that cgroup and a test-made netns where the
// backends live (identity servers answer with their name). A pod of the policies is a Pod object
// whose uid names a pod-level cgroup under the test cgroup, as the kubelet lays them out.

let server: TestApiServer;
let netns: string;
let cgroup: string;
let pinRoot: string;
let dir: string;
let servers: IdentityServers;
let client: ResolverClient;
let running: RunningResolver | undefined;

const WEB_IP = '10.96.0.10';
/** An identity server on this node's address: what hostPort and nodeProxy backends reach. */
const NODE_HOST = 'node-a-host';
const put = (resource: string, object: object) => server.store.put(resource, object);
const remove = (resource: string, name: string, namespace?: string) => server.store.delete(resource, name, namespace);

interface PodSpec {
  readonly backend: BackendName;
  readonly labels: Record<string, string>;
  readonly ready?: boolean;
  readonly hostPort?: number;
}
const uids = new Map<string, string>();
function pod(name: string, p: PodSpec): object {
  const uid = uids.get(name) ?? randomUUID();
  uids.set(name, uid);
  const b = BACKENDS[p.backend];
  // The kubelet's pod-level cgroup of a pod on this node (its containers sit below it).
  if (b.node === NODE) mkdirSync(join(cgroup, `pod${uid}`, 'ctr'), { recursive: true });
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: NAMESPACE, uid, labels: p.labels },
    spec: { nodeName: b.node, containers: [{ name: 'c', ports: [{ containerPort: TARGET_PORT, protocol: 'TCP', ...(p.hostPort !== undefined ? { hostPort: p.hostPort } : {}) }] }] },
    status: {
      podIP: b.address,
      podIPs: [{ ip: b.address }],
      hostIP: b.node === NODE ? NODE_IP : '10.250.0.2',
      conditions: [{ type: 'Ready', status: p.ready === false ? 'False' : 'True' }],
    },
  };
}

/** Names of the backends `count` TCP connects to address:80 reached, and the failures. */
async function reach(address: string, count = 60, c: ResolverClient = client): Promise<{ counts: Record<string, number>; failures: Record<string, number> }> {
  const r = await c.tcp({ address, port: 80, count, concurrency: 4 });
  return { counts: r.counts, failures: r.failures };
}
const only = (names: readonly string[]) => (r: { counts: Record<string, number>; failures: Record<string, number> }) =>
  Object.keys(r.failures).length === 0 && JSON.stringify(Object.keys(r.counts).sort()) === JSON.stringify([...names].sort());
const until = (address: string, names: readonly string[], c?: ResolverClient) => eventually(`${address} → ${names.join(',')}`, () => reach(address, 40, c), only(names), 20_000, 50);

beforeAll(async () => {
  await ensureBpffs();
  server = await TestApiServer.start({
    bookmarkIntervalMs: 500,
    customResources: [
      { group: 'balanced.dev', version: 'v1alpha1', plural: 'localredirectpolicies', kind: 'LocalRedirectPolicy', namespaced: false },
      { group: 'balanced.dev', version: 'v1alpha1', plural: 'balancingpolicies', kind: 'BalancingPolicy', namespaced: false },
    ],
  });
  netns = await createNetns();
  cgroup = await createTestCgroup('bdp');
  pinRoot = await createTestPinRoot('bdp');
  await addLocalAddresses(netns, [...Object.values(BACKENDS).map((b) => b.address), NODE_IP]);
  servers = await startIdentityServers({
    netns,
    listeners: [
      ...Object.entries(BACKENDS).map(([name, b]) => ({ name, address: b.address, port: TARGET_PORT })),
      { name: NODE_HOST, address: NODE_IP, port: TARGET_PORT },
    ],
  });
  client = await startResolverClient({ netns, cgroup });
  dir = mkdtempSync(join(tmpdir(), 'bdp-'));
  writeFileSync(join(dir, 'kubeconfig'), server.kubeconfigYaml(), { mode: 0o600 });
  put('nodes', node(NODE, NODE_IP));
  put('nodes', node(OTHER_NODE, '10.250.0.2'));
  // The Service the redirect sits in front of: its own endpoints are a2 and b1.
  put('services', service({ name: 'web', clusterIPs: [WEB_IP] }));
  put('endpointslices', slice('web', ['a2', 'b1']));
  // The node-local pods a LocalRedirectPolicy picks (app=cache): a1 here, b2 on the other node.
  put('pods', pod('cache-a', { backend: 'a1', labels: { app: 'cache' } }));
  put('pods', pod('cache-b', { backend: 'b2', labels: { app: 'cache' } }));
  // Pods a BalancingPolicy picks (app=api): a3 here, b2's sibling on the other node.
  put('pods', pod('api-a', { backend: 'a3', labels: { app: 'api' }, hostPort: TARGET_PORT }));
  put('pods', pod('api-b', { backend: 'b1', labels: { app: 'api' } }));
  running = await startResolver(
    {
      kubeconfig: join(dir, 'kubeconfig'),
      nodeName: NODE,
      cgroupPath: cgroup,
      pinRoot,
      hostNetnsOnly: false,
      events: false,
      terminateSockets: false,
      resyncSeconds: 30,
      metricsHost: '127.0.0.1',
      metricsPort: 0,
      policyStatus: { namespace: 'balanced-system' },
    },
    pino({ level: 'silent' }),
  );
  await until(WEB_IP, ['a2', 'b1']);
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

const redirect = lrp('web-cache', {
  frontend: { serviceMatcher: { namespace: NAMESPACE, serviceName: 'web' } },
  backend: { endpointSelector: { matchLabels: { app: 'cache' } }, toPorts: [{ port: TARGET_PORT, protocol: 'TCP', name: 'http' }, { port: TARGET_PORT, protocol: 'UDP', name: 'dns' }] },
});

function conditions(resource: string, name: string): Record<string, string> {
  const o = server.store.get(resource, name) as { status?: { conditions?: { type: string; status: string }[] } } | undefined;
  return Object.fromEntries((o?.status?.conditions ?? []).map((c) => [c.type, c.status]));
}

describe('policies on this kernel: LocalRedirectPolicy, BalancingPolicy, priority, node selection, delete', () => {
  test('a LocalRedirectPolicy sends the Service to the node-local pod only (TCP and unconnected UDP, replies from the Service address); its status says Accepted and Programmed', async () => {
    put('localredirectpolicies', { ...redirect, metadata: { name: 'web-cache', creationTimestamp: '2026-01-01T00:00:00Z', generation: 1 } });
    await until(WEB_IP, ['a1']);
    const r = await reach(WEB_IP, 400);
    expect(r).toEqual({ counts: { a1: 400 }, failures: {} });
    const udp = await client.udpUnconnected({ address: WEB_IP, port: 53, count: 20 });
    expect(udp.failures).toEqual({});
    expect(udp.counts).toEqual({ a1: 20 });
    expect(udp.sources).toEqual({ [`${WEB_IP}:53`]: 20 });
    await eventually('status', () => conditions('localredirectpolicies', 'web-cache'), (c) => c.Accepted === 'True' && c.Programmed === 'True' && c.Conflicted === 'False');
  });

  test('the local pod not ready: the Service itself, and back when it recovers; a client loop sees no failed connect throughout', async () => {
    const loop = await client.startLoop({ address: WEB_IP, port: 80, timeoutMs: 2000, intervalMs: 1 });
    put('pods', pod('cache-a', { backend: 'a1', labels: { app: 'cache' }, ready: false }));
    await until(WEB_IP, ['a2', 'b1']);
    put('pods', pod('cache-a', { backend: 'a1', labels: { app: 'cache' } }));
    await until(WEB_IP, ['a1']);
    const result = await loop.stop();
    const failed = result.timeline.filter((a) => !a.ok);
    expect(failed).toEqual([]);
    const reached = new Set(result.timeline.flatMap((a) => (a.ok ? [a.backend] : [])));
    expect([...reached].sort()).toEqual(['a1', 'a2', 'b1']);
  });

  test('the redirect backend itself (a process in its pod cgroup) reaches the real Service, never itself', async () => {
    const backend = await startResolverClient({ netns, cgroup: join(cgroup, `pod${uids.get('cache-a')!}`, 'ctr') });
    try {
      await until(WEB_IP, ['a2', 'b1'], backend);
      const r = await reach(WEB_IP, 200, backend);
      expect(r.failures).toEqual({});
      expect(r.counts.a1).toBeUndefined();
      // Everyone else is still redirected.
      expect(await reach(WEB_IP, 100)).toEqual({ counts: { a1: 100 }, failures: {} });
    } finally {
      await backend.stop();
    }
  });

  test('BalancingPolicy backends: pods (podEndpoint), their host port (hostPort), a node proxy (nodeProxy) and fixed addresses (addressEndpoint)', async () => {
    const api = { endpointSelector: { matchLabels: { app: 'api' } }, toPorts: [{ port: TARGET_PORT, protocol: 'TCP' }] };
    put('balancingpolicies', bp('to-pods', { frontend: { addressMatcher: { ip: '10.96.5.1', toPorts: [{ port: 80, protocol: 'TCP' }] } }, backend: { serviceEndpoint: { ...api, redirectMode: 'podEndpoint' } } }));
    put('balancingpolicies', bp('to-host-port', { frontend: { addressMatcher: { ip: '10.96.5.2', toPorts: [{ port: 80, protocol: 'TCP' }] } }, backend: { serviceEndpoint: { endpointSelector: { matchLabels: { app: 'api' }, matchExpressions: [{ key: 'app', operator: 'In', values: ['api'] }] }, toPorts: api.toPorts, redirectMode: 'hostPort' } } }));
    put('balancingpolicies', bp('to-addresses', { frontend: { addressMatcher: { ip: '10.96.5.3', toPorts: [{ port: 80, protocol: 'TCP' }] } }, backend: { addressEndpoint: { addresses: [BACKENDS.a4.address], toPorts: api.toPorts } } }));
    put('nodes', { ...(node(NODE, NODE_IP) as Record<string, unknown>), metadata: { name: NODE, annotations: { 'balanced.dev/node-proxy-ip': NODE_IP } } });
    put('balancingpolicies', bp('to-node-proxy', { frontend: { addressMatcher: { ip: '10.96.5.4', toPorts: [{ port: 80, protocol: 'TCP' }] } }, backend: { serviceEndpoint: { endpointSelector: { matchLabels: { app: 'cache' } }, toPorts: api.toPorts, redirectMode: 'nodeProxy' } } }));
    await until('10.96.5.1', ['a3', 'b1']);
    // Only api-a publishes a host port, on this node.
    await until('10.96.5.2', [NODE_HOST]);
    await until('10.96.5.3', ['a4']);
    // cache-b's node has no proxy address: only this node's proxy.
    await until('10.96.5.4', [NODE_HOST]);
  });

  test('priority where frontends overlap: redirect, then balancing, then the Service; deleting a policy removes what it added', async () => {
    put('balancingpolicies', bp('web-fixed', { frontend: { serviceMatcher: { namespace: NAMESPACE, serviceName: 'web', toPorts: [{ port: 80, protocol: 'TCP', name: 'http' }] } }, backend: { addressEndpoint: { addresses: [BACKENDS.a4.address], toPorts: [{ port: TARGET_PORT, protocol: 'TCP', name: 'http' }] } } }));
    // The redirect (first test) still holds WEB_IP.
    await new Promise((r) => setTimeout(r, 500));
    expect(await reach(WEB_IP, 100)).toEqual({ counts: { a1: 100 }, failures: {} });
    remove('localredirectpolicies', 'web-cache');
    await until(WEB_IP, ['a4']);
    remove('balancingpolicies', 'web-fixed');
    await until(WEB_IP, ['a2', 'b1']);
    for (const name of ['to-pods', 'to-host-port', 'to-addresses', 'to-node-proxy']) remove('balancingpolicies', name);
    // No frontend left: a connect is not rewritten and has nowhere to go in the test netns.
    await eventually('10.96.5.1 gone', () => client.tcp({ address: '10.96.5.1', port: 80, count: 1 }), (r) => Object.keys(r.failures).join() === 'ENETUNREACH');
  });

  test('nodeLabelSelector: the policy applies on this node only while the node carries the label, re-read when labels change', async () => {
    put('balancingpolicies', bp('zoned', {
      frontend: { addressMatcher: { ip: '10.96.5.9', toPorts: [{ port: 80, protocol: 'TCP' }] } },
      backend: { addressEndpoint: { addresses: [BACKENDS.a4.address], toPorts: [{ port: TARGET_PORT, protocol: 'TCP' }] } },
      config: { nodeLabelSelector: { matchLabels: { zone: 'blue' } } },
    }));
    await new Promise((r) => setTimeout(r, 500));
    expect(Object.keys((await client.tcp({ address: '10.96.5.9', port: 80, count: 1 })).failures)).toEqual(['ENETUNREACH']);
    put('nodes', { ...(node(NODE, NODE_IP) as Record<string, unknown>), metadata: { name: NODE, labels: { zone: 'blue' } } });
    await until('10.96.5.9', ['a4']);
    put('nodes', node(NODE, NODE_IP));
    await eventually('10.96.5.9 gone', () => client.tcp({ address: '10.96.5.9', port: 80, count: 1 }), (r) => Object.keys(r.failures).join() === 'ENETUNREACH');
    remove('balancingpolicies', 'zoned');
  });
});
