// The Roles in deploy/ are sufficient, and no more than that, for what each component does
// through this package: the cluster cache with the kinds its app.ts watches, the Event
// recorder, the leader elector — each authenticated as the component's ServiceAccount
// against the test API server enforcing RBAC from deploy/*.yaml.


import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { CoordinationV1Api } from '@kubernetes/client-node';
import { TestApiServer, readDeployDocuments } from '@balanced/testkit';

import { createClusterCache, type WatchedKind } from '../src/cluster-cache.js';
import { EventRecorder } from '../src/events.js';
import { LAST_ACCEPTED_ANNOTATION } from '../src/last-good.js';
import { LastAcceptedRecorder } from '../src/last-accepted-recorder.js';
import { LeaderElector } from '../src/leader-election.js';
import { waitFor } from './poll.js';

const NS = 'balanced-system';

/** What each component's app.ts asks the cluster cache for. */
const COMPONENTS: ReadonlyArray<{ sa: string; kinds: readonly WatchedKind[]; podFieldSelector?: string; events: boolean }> = [
  { sa: 'balanced-ipvs-controller', kinds: ['services', 'endpointslices', 'pods', 'vippools'], events: true },
  { sa: 'balanced-endpoint-controller', kinds: ['services', 'endpointslices', 'pods', 'vippools'], podFieldSelector: 'spec.nodeName=node-a', events: true },
  { sa: 'balanced-vip-announcer', kinds: ['services', 'endpointslices', 'vippools'], events: false },
  { sa: 'balanced-vip-allocator', kinds: ['services', 'vippools'], events: true },
  { sa: 'balanced-cgroup-resolver', kinds: ['services', 'endpointslices', 'nodes', 'pods'], events: true },
  { sa: 'balanced-cgroup-resolver', kinds: ['localredirectpolicies', 'balancingpolicies'], events: false },
];

let server: TestApiServer;

beforeAll(async () => {
  server = await TestApiServer.start({
    rbac: true,
    customResources: [
      { group: 'balanced.dev', version: 'v1alpha1', plural: 'vippools', kind: 'VipPool', namespaced: false },
      { group: 'balanced.dev', version: 'v1alpha1', plural: 'localredirectpolicies', kind: 'LocalRedirectPolicy', namespaced: false },
      { group: 'balanced.dev', version: 'v1alpha1', plural: 'balancingpolicies', kind: 'BalancingPolicy', namespaced: false },
    ],
  });
  server.load(readDeployDocuments());
});
afterAll(async () => {
  await server.stop();
});

describe("each component's ServiceAccount (deploy/) can do what the component does", () => {
  for (const c of COMPONENTS) {
    it(`${c.sa}: the cluster cache syncs ${c.kinds.join(', ')} with no refused request`, async () => {
      const cache = createClusterCache(server.serviceAccountKubeConfig(NS, c.sa), {
        kinds: c.kinds,
        ...(c.podFieldSelector === undefined ? {} : { podFieldSelector: c.podFieldSelector }),
      });
      try {
        await cache.start();
        expect(cache.readiness().ok).toBe(true);
        expect(cache.stats().errors).toBe(0);
      } finally {
        await cache.stop();
      }
    });

    if (c.events) {
      it(`${c.sa}: Events are created and their count patched`, async () => {
        const recorder = new EventRecorder(server.serviceAccountKubeConfig(NS, c.sa), { component: c.sa });
        const involved = { kind: 'Service', namespace: 'default', name: 'web' };
        await recorder.record(involved, 'Warning', 'Test', 'm');
        await recorder.record(involved, 'Warning', 'Test', 'm');
        expect(recorder.stats()).toEqual({ sent: 1, updated: 1, failed: 0 });
      });
    }
  }

  it('the vip-announcer may not write Events (its Role grants none)', async () => {
    const recorder = new EventRecorder(server.serviceAccountKubeConfig(NS, 'balanced-vip-announcer'), { component: 'x' });
    await recorder.record({ kind: 'Service', namespace: 'default', name: 'web' }, 'Warning', 'Test', 'm');
    expect(recorder.stats().failed).toBe(1);
  });

  it('a cache asking for a kind its Role does not grant is refused (the ipvs-controller and nodes)', async () => {
    const cache = createClusterCache(server.serviceAccountKubeConfig(NS, 'balanced-ipvs-controller'), { kinds: ['nodes'] });
    const started = cache.start().catch(() => undefined);
    try {
      await waitFor(() => cache.stats().errors > 0, 'a refused list of nodes');
      expect(cache.synced('nodes')).toBe(false);
    } finally {
      await cache.stop();
      await started;
    }
  });

  it('balanced-vip-allocator: records the last accepted annotations (patch on services); the announcer may not', async () => {
    server.store.put('services', {
      metadata: { name: 'recorded', namespace: 'default', annotations: { 'balanced.dev/scheduler': 'wrr' } },
      spec: { type: 'LoadBalancer', loadBalancerClass: 'balanced.dev/ipvs', ports: [{ port: 80, protocol: 'TCP' }] },
    });
    const services = () => server.store.list('services').filter((s) => s.metadata.name === 'recorded') as never[];
    const refused = await new LastAcceptedRecorder(server.serviceAccountKubeConfig(NS, 'balanced-vip-announcer'), { defaultClass: false }).record(services());
    expect(refused).toEqual({ written: [], failed: [{ service: 'default/recorded', message: 'HTTP 403' }] });
    const result = await new LastAcceptedRecorder(server.serviceAccountKubeConfig(NS, 'balanced-vip-allocator'), { defaultClass: false }).record(services());
    expect(result).toEqual({ written: ['default/recorded'], failed: [] });
    const stored = server.store.get('services', 'recorded', 'default') as { metadata: { annotations?: Record<string, string> } } | undefined;
    expect(stored?.metadata.annotations?.[LAST_ACCEPTED_ANNOTATION]).toBe(JSON.stringify({ 'balanced.dev/scheduler': 'wrr' }));
  });

  it.each([
    ['balanced-vip-allocator', 'balanced-vip-allocator'],
    ['balanced-cgroup-resolver', 'balanced-policy-status'],
  ])('%s: takes, renews and releases its Lease (%s)', async (sa, leaseName) => {
    const elector = new LeaderElector(server.serviceAccountKubeConfig(NS, sa), {
      namespace: NS,
      name: leaseName,
      identity: 'replica-a',
      retryPeriodMs: 50,
    });
    elector.start();
    try {
      await waitFor(() => elector.stats().renewals > 0, 'the Lease taken and renewed');
      expect(elector.stats().failures).toBe(0);
      const lease = await server.kubeConfig().makeApiClient(CoordinationV1Api).readNamespacedLease({ namespace: NS, name: leaseName });
      expect(lease.spec?.holderIdentity).toBe('replica-a');
    } finally {
      await elector.stop();
    }
    expect(elector.stats().failures).toBe(0);
  });
});
