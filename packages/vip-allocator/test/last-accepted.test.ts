// Issue 13 item 3, driven by the allocator: the leader records each Service's valid balanced
// annotations in last-accepted.balanced.dev/annotations (LastAcceptedRecorder) after its passes,
// as its ServiceAccount under the RBAC of deploy/vip-allocator.yaml. When the annotations turn
// invalid the copy is left as it was, so a director or announcer started afterwards (no memory
// of earlier passes) keeps the Service: buildKeepingLastGood, the one rule both call, rebuilds
// it from the Service as read back from the API server.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';

import { afterEach, beforeEach, expect, it } from '@jest/globals';
import { CoreV1Api, type V1EndpointSlice, type V1Service } from '@kubernetes/client-node';
import { LAST_ACCEPTED_ANNOTATION, acceptedAnnotationsValue, buildKeepingLastGood, cidrOwnership } from '@balanced/k8s';
import { TestApiServer, findRepoRoot } from '@balanced/testkit';
import { pino } from 'pino';
import { parseAllDocuments } from 'yaml';

import { startAllocator, type RunningAllocator } from '../src/app.js';
import { FAST_LEASE, VIPPOOL_CRD, leaseHolder, putPool, putService, startApiServer, startReplica, statusIps } from './harness.js';
import type { RequestLog } from './tagging-proxy.js';
import { waitFor } from './poll.js';

const NS = 'balanced-system';
const SA = 'balanced-vip-allocator';
const GOOD = { 'balanced.dev/bgp-communities': '65000:1', 'balanced.dev/scheduler': 'wrr' };

let api: TestApiServer;
let running: RunningAllocator | undefined;
const logs: string[] = [];

beforeEach(async () => {
  api = await TestApiServer.start({ rbac: true, customResources: [VIPPOOL_CRD], namespaces: ['default', 'kube-system', NS] });
  api.load(parseAllDocuments(readFileSync(join(findRepoRoot(), 'deploy', 'vip-allocator.yaml'), 'utf8')).map((d) => d.toJS() as unknown));
  putPool(api, 'gold', { cidrs: ['10.96.200.0/28'] });
  logs.length = 0;
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      logs.push(chunk.toString('utf8').trimEnd());
      done();
    },
  });
  running = await startAllocator(
    {
      kubeConfig: api.serviceAccountKubeConfig(NS, SA),
      leaseNamespace: NS,
      leaseName: SA,
      identity: 'replica-a',
      defaultClass: false,
      metricsHost: '127.0.0.1',
      metricsPort: 0,
      resyncSeconds: 3600,
      ...FAST_LEASE,
      restartDelayMs: { min: 20, max: 100 },
    },
    pino({ level: 'debug' }, sink),
  );
});
afterEach(async () => {
  await running?.stop();
  running = undefined;
  await api.stop();
});

const stored = (): V1Service => api.store.get('services', 'web', 'default') as unknown as V1Service;
const recorded = (): string | undefined => stored().metadata?.annotations?.[LAST_ACCEPTED_ANNOTATION];
const why = (): string => `the recorded copy (have ${String(recorded())})\n${logs.slice(-10).join('\n')}`;

function slice(): V1EndpointSlice {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name: 'web-1', namespace: 'default', labels: { 'kubernetes.io/service-name': 'web' } },
    addressType: 'IPv4',
    ports: [{ name: '', protocol: 'TCP', port: 80 }],
    endpoints: [{ addresses: ['10.244.0.5'], conditions: { ready: true, serving: true, terminating: false } }],
  };
}

it('records valid annotations (patch allowed by deploy/), keeps the copy through a typo, and a restarted director keeps the Service from it', async () => {
  putService(api, 'web', { annotations: GOOD });
  await waitFor(() => (statusIps(api)['default/web'] ?? []).length === 1, () => `an address (have ${JSON.stringify(statusIps(api))})`, 10_000);
  const expected = acceptedAnnotationsValue(stored());
  expect(expected).toBe(JSON.stringify(GOOD));
  await waitFor(() => recorded() === expected, why, 10_000);
  expect(logs.some((l) => l.includes('could not record'))).toBe(false);

  // The annotation turns invalid: the copy stays as it was (the allocator passes again on the change).
  const vip = statusIps(api)['default/web']?.[0] ?? '';
  const current = stored();
  api.store.put('services', { ...current, metadata: { ...current.metadata, annotations: { ...current.metadata?.annotations, 'balanced.dev/scheduler': 'round-robin' } } });
  const passes = running?.allocator.passCount ?? 0;
  await waitFor(() => (running?.allocator.passCount ?? 0) > passes, 'a pass after the change', 10_000);
  await running?.allocator.runOnce(); // and one more, done to the end
  expect(recorded()).toBe(expected);

  // A director or announcer started now has no memory: it reads the Service from the API server.
  const readBack = await api.kubeConfig().makeApiClient(CoreV1Api).readNamespacedService({ name: 'web', namespace: 'default' });
  const input = { service: readBack, endpointSlices: [slice()], ownsVip: cidrOwnership(['10.96.200.0/28']), defaultClass: false };
  const kept = buildKeepingLastGood(input, []);
  expect(kept).toMatchObject({ kept: true, keptFrom: 'recorded' });
  expect(kept.candidates.map((c) => `${c.service.key.address}:${c.service.key.port} ${c.service.spec.scheduler}`)).toEqual([`${vip}:80 wrr`]);
  expect(kept.refusals.length).toBeGreaterThan(0); // the typo is still reported

  // Without the recorded copy the same restart would drop it (the test can fail).
  const bare = { ...readBack, metadata: { ...readBack.metadata, annotations: { 'balanced.dev/scheduler': 'round-robin' } } };
  expect(buildKeepingLastGood({ ...input, service: bare }, []).candidates).toEqual([]);
});

it('a ServiceAccount without `patch` on services: the failure is logged, and addresses are still assigned', async () => {
  const role = api.store.get('clusterroles', SA) as unknown as { rules: Array<{ resources: string[]; verbs: string[] }> } & Record<string, unknown>;
  api.store.put('clusterroles', { ...role, rules: role.rules.map((r) => (r.resources.includes('services') ? { ...r, verbs: r.verbs.filter((v) => v !== 'patch') } : r)) });
  putService(api, 'web', { annotations: GOOD });
  await waitFor(() => (statusIps(api)['default/web'] ?? []).length === 1, () => `an address (have ${JSON.stringify(statusIps(api))})`, 10_000);
  await waitFor(() => logs.some((l) => l.includes('could not record the last accepted annotations') && l.includes('HTTP 403')), why, 10_000);
  expect(recorded()).toBeUndefined();
});

it('only the leader records: a follower plans but never patches a Service', async () => {
  const log: RequestLog = { entries: [], seq: 0 };
  const admin = await startApiServer();
  const replicas = [await startReplica(admin, 'a', log), await startReplica(admin, 'b', log)];
  try {
    putPool(admin, 'gold', { cidrs: ['10.96.201.0/28'] });
    putService(admin, 'web', { annotations: GOOD });
    await waitFor(() => (admin.store.get('services', 'web', 'default') as V1Service | undefined)?.metadata?.annotations?.[LAST_ACCEPTED_ANNOTATION] !== undefined, 'the copy recorded', 10_000);
    const leader = leaseHolder(admin);
    const follower = replicas.find((r) => r.identity !== leader);
    await waitFor(() => (follower?.running.allocator.passCount ?? 0) > 0, 'the follower planned', 10_000);
    const servicePatches = log.entries.filter((e) => e.method === 'PATCH' && /\/services\/web$/.test(e.path));
    expect(servicePatches.length).toBeGreaterThan(0);
    expect(new Set(servicePatches.map((e) => e.who))).toEqual(new Set([leader]));
  } finally {
    for (const r of replicas) await r.stop();
    await admin.stop();
  }
});
