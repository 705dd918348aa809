// The policy status writer against the test API server over HTTP, with the real client-node:
// the policy CRDs served as the API server would (cluster-scoped, /status subresource), the
// policies read through the real cluster cache, statuses written through /status, the writer
// elected with a real Lease, and (with RBAC on) nothing more than the rules the agent is given.

import { afterEach, describe, expect, test } from '@jest/globals';
import { CustomObjectsApi, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { createClusterCache, type CacheLog, type ClusterCache } from '@balanced/k8s';
import { POLICY_GROUP, POLICY_RESOURCES, POLICY_VERSION } from '@balanced/policies';
import { TestApiServer, addressFrontend, bp, lrp, serviceFrontend, type Json } from '@balanced/testkit';
import { Registry } from 'prom-client';

import {
  POLICY_STATUS_LEASE,
  PolicyStatusMetrics,
  PolicyStatusWriter,
  policyStatusApi,
  runStatusPass,
  startPolicyStatus,
  type PolicyStatusPorts,
  type RunningPolicyStatus,
  type StatusLog,
  type StatusPassReport,
} from '../src/policy-status/index.js';
import { agentPolicyPorts } from '../src/policy-status/agent-ports.js';
import { build, kubeDns } from './policy-fixtures.js';

const POLICY_CRDS = Object.values(POLICY_RESOURCES).map((r) => ({ group: POLICY_GROUP, version: POLICY_VERSION, plural: r.plural, kind: r.kind, namespaced: false }));
const LRP = 'localredirectpolicies.balanced.dev';
const BP = 'balancingpolicies.balanced.dev';
const NS = 'balanced-system';
const SAME_SECOND = '2026-01-01T00:00:00Z';

const quiet: CacheLog & StatusLog = { warn: () => undefined, info: () => undefined, debug: () => undefined };
const ports: PolicyStatusPorts = {
  programmed: () => ({ status: 'True', reason: 'Programmed', message: 'the maps hold its frontends' }),
  backendsPerNode: () => new Map([['node-a', 1]]),
};

let server: TestApiServer | undefined;
const cleanups: (() => Promise<void>)[] = [];

afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
  await server?.stop();
  server = undefined;
});

async function start(options: { rbac?: boolean } = {}): Promise<TestApiServer> {
  server = await TestApiServer.start({ customResources: POLICY_CRDS, namespaces: ['default', 'kube-system', NS], ...options });
  return server;
}

async function cacheOf(api: TestApiServer, kc = api.kubeConfig()): Promise<ClusterCache> {
  const cache = createClusterCache(kc, { kinds: ['localredirectpolicies', 'balancingpolicies'], restartDelayMs: { min: 20, max: 100 }, log: quiet });
  cleanups.push(() => cache.stop());
  await cache.start();
  return cache;
}

const policiesOf = (cache: ClusterCache) => (): unknown[] => [...cache.localRedirectPolicies(), ...cache.balancingPolicies()];

function stored(api: TestApiServer, resource: string, name: string): Json {
  const o = api.store.get(resource, name) as Json | undefined;
  if (o === undefined) throw new Error(`${resource}/${name} is not stored`);
  return o;
}

function conditions(api: TestApiServer, resource: string, name: string): [string, string, string][] {
  const status = stored(api, resource, name)['status'] as { conditions?: { type: string; status: string; reason: string }[] } | undefined;
  return (status?.conditions ?? []).map((c) => [c.type, c.status, c.reason]);
}

/** The cache shows every stored policy at its stored resourceVersion. */
function caughtUp(api: TestApiServer, cache: ClusterCache): boolean {
  const want = [...api.store.list(LRP), ...api.store.list(BP)].map((o) => `${o.metadata.name}@${o.metadata.resourceVersion}`).sort();
  const have = policiesOf(cache)()
    .map((o) => {
      const m = (o as { metadata: { name: string; resourceVersion: string } }).metadata;
      return `${m.name}@${m.resourceVersion}`;
    })
    .sort();
  return want.join() === have.join();
}

async function waitFor(check: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

const patches = (api: TestApiServer) => api.requests.filter((r) => r.method === 'PATCH' || r.method === 'PUT');

describe('policy status against the test API server', () => {
  test('same frontend, same creation second: exactly one Accepted, the other Conflicted naming it; invalid is Invalid; a second pass writes nothing', async () => {
    const api = await start();
    // Put in reverse name order, with one creationTimestamp: the tie goes by name.
    api.store.put(LRP, lrp('dns-beta', {}, { creationTimestamp: SAME_SECOND }));
    api.store.put(LRP, lrp('dns-alpha', {}, { creationTimestamp: SAME_SECOND }));
    api.store.put(BP, bp('broken', { frontend: addressFrontend('10.0.0.300') }));
    const cache = await cacheOf(api);
    const writer = new PolicyStatusWriter({ objects: policiesOf(cache), synced: () => cache.synced(), ports, api: policyStatusApi(api.kubeConfig()), isLeader: () => true });
    api.clearRequests();

    const first = await writer.runOnce();
    expect([...(first?.written ?? [])].sort()).toEqual(['BalancingPolicy/broken', 'LocalRedirectPolicy/dns-alpha', 'LocalRedirectPolicy/dns-beta']);
    expect(first?.errors).toEqual([]);

    expect(conditions(api, LRP, 'dns-alpha')).toEqual([
      ['Accepted', 'True', 'Accepted'],
      ['Conflicted', 'False', 'NoConflict'],
      ['Programmed', 'True', 'Programmed'],
    ]);
    expect(conditions(api, LRP, 'dns-beta')).toEqual([
      ['Accepted', 'False', 'FrontendClaimed'],
      ['Conflicted', 'True', 'FrontendClaimed'],
      ['Programmed', 'False', 'NotAccepted'],
    ]);
    const beta = stored(api, LRP, 'dns-beta')['status'] as { observedGeneration: number; conditions: { type: string; message: string }[]; nodes?: unknown };
    expect(beta.conditions.find((c) => c.type === 'Conflicted')?.message).toContain('LocalRedirectPolicy/dns-alpha');
    expect(beta.observedGeneration).toBe(1);
    expect(beta.nodes).toBeUndefined();
    expect(stored(api, LRP, 'dns-alpha')['status']).toMatchObject({ observedGeneration: 1, nodes: [{ node: 'node-a', backends: 1 }] });
    expect(conditions(api, BP, 'broken')).toEqual([
      ['Accepted', 'False', 'Invalid'],
      ['Programmed', 'False', 'NotAccepted'],
    ]);

    // Every write went to /status as a merge patch.
    const writes = patches(api);
    expect(writes).toHaveLength(3);
    for (const w of writes) {
      expect(w.method).toBe('PATCH');
      expect(w.path).toMatch(/^\/apis\/balanced\.dev\/v1alpha1\/(localredirectpolicies|balancingpolicies)\/[a-z-]+\/status$/);
      expect(w.contentType).toBe('application/merge-patch+json');
    }

    // At once (the cache may not show the writes yet) and after the cache caught up: no write.
    api.clearRequests();
    expect((await writer.runOnce())?.written).toEqual([]);
    expect(patches(api)).toEqual([]);
    await waitFor(() => caughtUp(api, cache), 'the cache to show the written statuses');
    const third = await writer.runOnce();
    expect(third).toMatchObject({ policies: 3, unchanged: 3, written: [] });
    expect(patches(api)).toEqual([]);
  });

  test('an addressMatcher on a Service’s ClusterIP vs a serviceMatcher on that Service: the agent’s settled state makes the newer Conflicted, naming the older', async () => {
    const api = await start();
    const toPorts = [{ port: 53, protocol: 'UDP', name: 'dns' }];
    const backend = { addressEndpoint: { addresses: ['192.0.2.10'], toPorts } };
    api.store.put(BP, bp('by-address', { frontend: addressFrontend('10.96.0.10', [{ port: 53, protocol: 'UDP' }]), backend: { addressEndpoint: { addresses: ['192.0.2.10'], toPorts: [{ port: 53, protocol: 'UDP' }] } } }, { creationTimestamp: '2026-01-01T00:00:00Z' }));
    api.store.put(BP, bp('by-service', { frontend: serviceFrontend('kube-system', 'kube-dns', toPorts), backend }, { creationTimestamp: '2026-01-02T00:00:00Z' }));
    const cache = await cacheOf(api);
    // The agent's pass over what the cache holds, with the Service only an agent sees.
    const applied = () => build({ bps: [...cache.balancingPolicies()], services: [kubeDns({ clusterIPs: ['10.96.0.10'] })] });
    const agentPorts = agentPolicyPorts({ nodeName: 'n1', applied, policies: (kind) => (kind === 'BalancingPolicy' ? cache.balancingPolicies() : []), pods: () => [] });
    const writer = new PolicyStatusWriter({ objects: policiesOf(cache), synced: () => cache.synced(), ports: agentPorts, api: policyStatusApi(api.kubeConfig()), isLeader: () => true });
    expect([...((await writer.runOnce())?.written ?? [])].sort()).toEqual(['BalancingPolicy/by-address', 'BalancingPolicy/by-service']);
    expect(conditions(api, BP, 'by-address')).toEqual([
      ['Accepted', 'True', 'Accepted'],
      ['Conflicted', 'False', 'NoConflict'],
      ['Programmed', 'True', 'Programmed'],
    ]);
    expect(conditions(api, BP, 'by-service')).toEqual([
      ['Accepted', 'True', 'Accepted'],
      ['Conflicted', 'True', 'FrontendClaimed'],
      ['Programmed', 'False', 'NotProgrammed'],
    ]);
    const loser = stored(api, BP, 'by-service')['status'] as { conditions: { type: string; message: string }[] };
    expect(loser.conditions.find((c) => c.type === 'Conflicted')?.message).toContain('10.96.0.10:53/UDP is held by BalancingPolicy/by-address, which is older');
  });

  test('a pass over 100 unchanged policies writes nothing', async () => {
    const api = await start();
    for (let i = 0; i < 100; i++) api.store.put(BP, bp(`p${i}`, { frontend: addressFrontend(`10.2.0.${i + 1}`) }));
    const cache = await cacheOf(api);
    const registry = new Registry();
    const writer = new PolicyStatusWriter({ objects: policiesOf(cache), synced: () => cache.synced(), ports, api: policyStatusApi(api.kubeConfig()), isLeader: () => true, metrics: new PolicyStatusMetrics(registry) });
    expect((await writer.runOnce())?.written).toHaveLength(100);
    await waitFor(() => caughtUp(api, cache), 'the cache to show the written statuses');
    api.clearRequests();
    expect(await writer.runOnce()).toMatchObject({ policies: 100, unchanged: 100, written: [] });
    expect(patches(api)).toEqual([]);
    expect(await registry.getSingleMetricAsString('balanced_resolver_policy_status_writes_total')).toContain('balanced_resolver_policy_status_writes_total{result="ok"} 100');
  });

  test('changed meanwhile (409) and deleted meanwhile (404) are not errors; a spec sent to /status is ignored by the server', async () => {
    const api = await start();
    api.store.put(LRP, lrp('changed'));
    api.store.put(LRP, lrp('deleted', { frontend: addressFrontend('10.3.0.1', [{ port: 53, protocol: 'UDP', name: 'dns' }, { port: 53, protocol: 'TCP', name: 'dns-tcp' }]) }));
    const snapshot = [...api.store.list(LRP)]; // what a cache held before the changes below
    api.store.put(LRP, { ...lrp('changed'), metadata: { name: 'changed', generation: 2 } });
    api.store.delete(LRP, 'deleted');
    const registry = new Registry();
    const report = await runStatusPass({ objects: snapshot, ports, api: policyStatusApi(api.kubeConfig()), isLeader: () => true, now: Date.now(), metrics: new PolicyStatusMetrics(registry) });
    expect(report).toMatchObject({ conflicts: ['LocalRedirectPolicy/changed'], notFound: ['LocalRedirectPolicy/deleted'], errors: [], written: [] });
    expect(stored(api, LRP, 'changed')['status']).toBeUndefined();
    const counts = await registry.getSingleMetricAsString('balanced_resolver_policy_status_writes_total');
    expect(counts).toContain('{result="conflict"} 1');
    expect(counts).toContain('{result="notfound"} 1');
    expect(counts).toContain('{result="error"} 0');

    // The server keeps spec out of a /status write (so the writer could never change one).
    const custom = api.kubeConfig().makeApiClient(CustomObjectsApi);
    const before = stored(api, LRP, 'changed');
    await custom.patchClusterCustomObjectStatus(
      { group: POLICY_GROUP, version: POLICY_VERSION, plural: 'localredirectpolicies', name: 'changed', body: { spec: { frontend: addressFrontend('10.9.9.9') }, status: { observedGeneration: 2, conditions: [] } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    const after = stored(api, LRP, 'changed');
    expect(after['spec']).toEqual(before['spec']);
    expect((after['metadata'] as Json)['generation']).toBe(2);
    expect(after['status']).toEqual({ observedGeneration: 2, conditions: [] });
  });

  test('two agents campaign for the Lease: only the holder writes; the other writes nothing', async () => {
    const api = await start();
    api.store.put(LRP, lrp('a'));
    const agents: { identity: string; registry: Registry; running: RunningPolicyStatus; written: string[]; passes: StatusPassReport[] }[] = [];
    for (const identity of ['node-a', 'node-b']) {
      const cache = await cacheOf(api);
      const registry = new Registry();
      const written: string[] = [];
      const passes: StatusPassReport[] = [];
      const running = startPolicyStatus({
        kubeConfig: api.kubeConfig(),
        namespace: NS,
        identity,
        lease: { durationSeconds: 2, renewDeadlineMs: 1000, retryPeriodMs: 50 },
        objects: policiesOf(cache),
        synced: () => cache.synced(),
        ports,
        registry,
        log: quiet,
        writer: {
          debounceMs: 10,
          onPass: (r) => {
            passes.push(r);
            written.push(...r.written);
          },
        },
      });
      cache.onChange(() => running.writer.markDirty());
      cleanups.push(() => running.stop());
      agents.push({ identity, registry, running, written, passes });
    }
    await waitFor(() => conditions(api, LRP, 'a').length === 3, 'the status of a');
    api.store.put(LRP, lrp('b', { frontend: addressFrontend('10.4.0.1', [{ port: 53, protocol: 'UDP', name: 'dns' }, { port: 53, protocol: 'TCP', name: 'dns-tcp' }]) }));
    // The passes that wrote have ended (the server stores a write before its answer reaches the client).
    await waitFor(() => agents.flatMap((a) => a.written).length === 2, 'both writes to be reported');
    expect(conditions(api, LRP, 'b')).toHaveLength(3);

    const lease = api.store.get('leases', POLICY_STATUS_LEASE, NS) as { spec?: { holderIdentity?: string } } | undefined;
    const holder = lease?.spec?.holderIdentity;
    expect(['node-a', 'node-b']).toContain(holder);
    for (const agent of agents) {
      const text = await agent.registry.getSingleMetricAsString('balanced_resolver_policy_status_writes_total');
      const leading = agent.identity === holder;
      expect(agent.written).toEqual(leading ? ['LocalRedirectPolicy/a', 'LocalRedirectPolicy/b'] : []);
      // The other agent ran passes too (on every cache change) and computed and wrote nothing in any.
      if (!leading) {
        expect(agent.passes.length).toBeGreaterThan(0);
        expect(agent.passes.filter((p) => p.leader || p.policies > 0)).toEqual([]);
      }
      expect(text).toContain(`{result="ok"} ${leading ? 2 : 0}`);
      expect(await agent.registry.getSingleMetricAsString('balanced_resolver_policy_status_leader')).toContain(`balanced_resolver_policy_status_leader ${leading ? 1 : 0}`);
    }
  });

  test('with RBAC on, the rules listed for the agent are enough: Lease in its namespace, policies list/watch, patch on their /status', async () => {
    const api = await start({ rbac: true });
    const sa = 'balanced-cgroup-resolver';
    const { loaded } = api.load([
      { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: sa, namespace: NS } },
      {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'ClusterRole',
        metadata: { name: sa },
        rules: [
          { apiGroups: ['balanced.dev'], resources: ['localredirectpolicies', 'balancingpolicies'], verbs: ['list', 'watch'] },
          { apiGroups: ['balanced.dev'], resources: ['localredirectpolicies/status', 'balancingpolicies/status'], verbs: ['patch'] },
        ],
      },
      { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRoleBinding', metadata: { name: sa }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: sa }, subjects: [{ kind: 'ServiceAccount', name: sa, namespace: NS }] },
      {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'Role',
        metadata: { name: `${sa}-policy-status`, namespace: NS },
        rules: [{ apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['get', 'create', 'update'] }],
      },
      {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'RoleBinding',
        metadata: { name: `${sa}-policy-status`, namespace: NS },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: `${sa}-policy-status` },
        subjects: [{ kind: 'ServiceAccount', name: sa, namespace: NS }],
      },
    ]);
    expect(loaded).toHaveLength(5);
    api.store.put(LRP, lrp('a'));
    const kc = api.serviceAccountKubeConfig(NS, sa);
    const cache = await cacheOf(api, kc);
    const running = startPolicyStatus({
      kubeConfig: kc,
      namespace: NS,
      identity: 'node-a',
      lease: { durationSeconds: 2, renewDeadlineMs: 1000, retryPeriodMs: 50 },
      objects: policiesOf(cache),
      synced: () => cache.synced(),
      ports,
      registry: new Registry(),
      log: quiet,
      writer: { debounceMs: 10 },
    });
    cleanups.push(() => running.stop());
    await waitFor(() => conditions(api, LRP, 'a').length === 3, 'the status of a, written as the ServiceAccount');
    expect(running.elector.stats().failures).toBe(0);
    // And no more than that: the agent cannot change a policy's spec.
    const custom = kc.makeApiClient(CustomObjectsApi);
    await expect(
      custom.patchClusterCustomObject({ group: POLICY_GROUP, version: POLICY_VERSION, plural: 'localredirectpolicies', name: 'a', body: { spec: {} } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch)),
    ).rejects.toMatchObject({ code: 403 });
  });
});
