// Issue 13 item 3: a live Service whose annotation became invalid keeps its programmed state
// across a director restart. The real path: client-node informers against the test API server,
// the allocator's recorder writing the last accepted annotations, and the director's DesiredIndex.

import { afterEach, beforeEach, expect, it } from '@jest/globals';
import type { V1Service } from '@kubernetes/client-node';
import { TestApiServer } from '@balanced/testkit';
import { LAST_ACCEPTED_ANNOTATION, LastAcceptedRecorder, createClusterCache, desiredStateTransforms, type CacheLog, type ClusterCache } from '@balanced/k8s';
import { DesiredIndex } from '../src/index.js';

const quiet: CacheLog = { warn: () => undefined, info: () => undefined };
let api: TestApiServer;
const caches: ClusterCache[] = [];

beforeEach(async () => {
  api = await TestApiServer.start();
});
afterEach(async () => {
  for (const c of caches.splice(0)) await c.stop();
  await api.stop();
});

async function waitFor(check: () => boolean, what: () => string): Promise<void> {
  const deadline = Date.now() + 4000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what()}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const web = (annotations: Record<string, string>): object => ({
  metadata: { name: 'web', namespace: 'default', annotations, creationTimestamp: '2025-01-01T00:00:00Z' },
  spec: { type: 'LoadBalancer', loadBalancerClass: 'balanced.dev/ipvs', ports: [{ name: 'http', port: 80, protocol: 'TCP' }] },
  status: { loadBalancer: { ingress: [{ ip: '10.96.0.10' }] } },
});
const slice = (ips: string[]): object => ({
  metadata: { name: 'web-1', namespace: 'default', labels: { 'kubernetes.io/service-name': 'web' } },
  addressType: 'IPv4',
  ports: [{ name: 'http', port: 80, protocol: 'TCP' }],
  endpoints: ips.map((ip) => ({ addresses: [ip], conditions: { ready: true } })),
});

/** A director's desired path as app.ts wires it: the projected cache feeding a DesiredIndex. */
async function director(): Promise<{ cache: ClusterCache; index: DesiredIndex }> {
  const cache = createClusterCache(api.kubeConfig(), { kinds: ['services', 'endpointslices', 'pods'], transform: desiredStateTransforms, restartDelayMs: { min: 20, max: 100 }, log: quiet });
  caches.push(cache);
  const index = new DesiredIndex({ cluster: cache, ownsVip: (ip) => ip.startsWith('10.96.'), defaultClass: false, defaultDrainSeconds: 30 });
  cache.onChange((kind, change) => index.observe(kind, change));
  await cache.start();
  return { cache, index };
}

const programmed = (index: DesiredIndex): unknown[] =>
  [...index.snapshot().services.values()].map((s) => ({ key: s.spec.key, scheduler: s.spec.scheduler, destinations: s.destinations.map((d) => d.address).sort() }));

it('a Service whose annotation turned invalid keeps its programmed state after a director restart, with today’s endpoints', async () => {
  api.store.put('services', web({ 'balanced.dev/scheduler': 'rr' }));
  api.store.put('endpointslices', slice(['10.0.0.1', '10.0.0.2']));

  // The allocator's view (whole objects) and its recorder: the accepted annotations are copied into the Service.
  const allocatorView = createClusterCache(api.kubeConfig(), { kinds: ['services'], log: quiet });
  caches.push(allocatorView);
  await allocatorView.start();
  const recorder = new LastAcceptedRecorder(api.kubeConfig(), { defaultClass: false });
  expect((await recorder.record(allocatorView.services())).written).toEqual(['default/web']);
  const recorded = (): string | undefined => (api.store.get('services', 'web', 'default') as V1Service | undefined)?.metadata?.annotations?.[LAST_ACCEPTED_ANNOTATION];
  expect(recorded()).toBe(JSON.stringify({ 'balanced.dev/scheduler': 'rr' }));

  const first = await director();
  const good = programmed(first.index);
  expect(good).toEqual([{ key: { address: '10.96.0.10', port: 80, protocol: 'tcp' }, scheduler: 'rr', destinations: ['10.0.0.1', '10.0.0.2'] }]);

  // A typo on the live Service. The recorder leaves the copy alone (the annotations do not parse).
  const typo = web({ 'balanced.dev/scheduler': 'rrr' }) as { metadata: { annotations: Record<string, string> } };
  typo.metadata.annotations[LAST_ACCEPTED_ANNOTATION] = recorded() ?? '';
  api.store.put('services', typo);
  await waitFor(() => allocatorView.services()[0]?.metadata?.annotations?.['balanced.dev/scheduler'] === 'rrr', () => 'the allocator to see the typo');
  expect((await recorder.record(allocatorView.services())).written).toEqual([]);
  await waitFor(() => first.cache.services()[0]?.metadata?.annotations?.['balanced.dev/scheduler'] === 'rrr', () => 'the director to see the typo');
  expect(programmed(first.index)).toEqual(good);

  // The director restarts: nothing of the old process is left.
  await first.cache.stop();
  const restarted = await director();
  expect(programmed(restarted.index)).toEqual(good);
  const snapshot = restarted.index.snapshot();
  expect(snapshot.services.size).toBe(1);

  // Kept, yet alive: a new endpoint still reaches the kept Service.
  api.store.put('endpointslices', slice(['10.0.0.1', '10.0.0.2', '10.0.0.3']));
  await waitFor(() => restarted.cache.endpointSlices()[0]?.endpoints?.length === 3, () => 'the new endpoint');
  expect(programmed(restarted.index)).toEqual([{ ...(good[0] as object), destinations: ['10.0.0.1', '10.0.0.2', '10.0.0.3'] }]);

  // Fixed: the Service's own annotations count again, and the recorder follows.
  api.store.put('services', web({ 'balanced.dev/scheduler': 'wrr', [LAST_ACCEPTED_ANNOTATION]: recorded() ?? '' }));
  await waitFor(() => restarted.cache.services()[0]?.metadata?.annotations?.['balanced.dev/scheduler'] === 'wrr', () => 'the fix');
  expect(programmed(restarted.index)).toMatchObject([{ scheduler: 'wrr' }]);
  await waitFor(() => allocatorView.services()[0]?.metadata?.annotations?.['balanced.dev/scheduler'] === 'wrr', () => 'the allocator to see the fix');
  expect((await recorder.record(allocatorView.services())).written).toEqual(['default/web']);
  expect(recorded()).toBe(JSON.stringify({ 'balanced.dev/scheduler': 'wrr' }));
});

it('without a recorded copy a restarted director has nothing to keep (the Service stays refused)', async () => {
  api.store.put('services', web({ 'balanced.dev/scheduler': 'rrr' }));
  api.store.put('endpointslices', slice(['10.0.0.1']));
  const d = await director();
  expect(programmed(d.index)).toEqual([]);
});
