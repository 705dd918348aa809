// One allocator replica end to end: the real startAllocator (client-node informers, the Lease
// elector, EventRecorder, metrics server) against the test API server over HTTP.

import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import type { TestApiServer } from '@balanced/testkit';

import { duplicates, events, leaseHolder, putPool, putService, startApiServer, startReplica, statusIps, type Replica } from './harness.js';
import { waitFor } from './poll.js';
import type { RequestLog } from './tagging-proxy.js';

let server: TestApiServer;
let log: RequestLog;
const replicas: Replica[] = [];

beforeEach(async () => {
  server = await startApiServer();
  log = { entries: [], seq: 0 };
});
afterEach(async () => {
  for (const r of replicas.splice(0)) await r.stop();
  await server.stop();
});

async function replica(identity = 'alloc-a', config: Parameters<typeof startReplica>[3] = {}): Promise<Replica> {
  const r = await startReplica(server, identity, log, config);
  replicas.push(r);
  return r;
}

/** Started, synced and leading. */
async function leader(identity = 'alloc-a', config: Parameters<typeof startReplica>[3] = {}): Promise<Replica> {
  const r = await replica(identity, config);
  await waitFor(() => r.running.synced() && r.running.elector.isLeader(), `${identity} to sync and lead`);
  return r;
}

const ips = (key: string): string[] | undefined => statusIps(server)[key];
const statusWrites = (name?: string) =>
  log.entries.filter((e) => e.method === 'PATCH' && /\/services\/[^/]+\/status$/.test(e.path) && (name === undefined || e.path.includes(`/services/${name}/status`)));

describe('allocator end to end', () => {
  it('assigns from the autoAssign pool, honours ip-request and loadBalancerIP, leaves foreign Services alone', async () => {
    putPool(server, 'default', { cidrs: ['10.96.0.0/29'], avoidBuggyIPs: true });
    putService(server, 'web', { creationTimestamp: '2025-01-01T00:00:00Z' });
    putService(server, 'asks', { creationTimestamp: '2025-01-01T00:00:01Z', annotations: { 'balanced.dev/ip-request': '10.96.0.5, 10.96.0.6' } });
    putService(server, 'legacy', { creationTimestamp: '2025-01-01T00:00:02Z', loadBalancerIP: '10.96.0.3' });
    putService(server, 'alias', { creationTimestamp: '2025-01-01T00:00:03Z', annotations: { 'balanced.demonware.net/ip-request': '10.96.0.6' } });
    putService(server, 'foreign', { loadBalancerClass: 'example.com/other' });
    putService(server, 'classless', { loadBalancerClass: null });
    await leader();
    await waitFor(() => ['web', 'asks', 'legacy', 'alias'].every((n) => (ips(`default/${n}`) ?? []).length === 1), () => JSON.stringify(statusIps(server)));
    expect(statusIps(server)).toEqual({
      'default/web': ['10.96.0.1'], // .0 avoided
      'default/asks': ['10.96.0.5'],
      'default/legacy': ['10.96.0.3'],
      'default/alias': ['10.96.0.6'],
      'default/foreign': [],
      'default/classless': [],
    });
    await waitFor(() => events(server).filter((e) => e.reason === 'IPAllocated').length >= 4, 'four IPAllocated Events');
    const allocated = events(server).filter((e) => e.reason === 'IPAllocated');
    expect(allocated.map((e) => `${e.involvedObject.name}: ${e.message}`).sort()).toEqual([
      'alias: Assigned 10.96.0.6 from VipPool default',
      'asks: Assigned 10.96.0.5 from VipPool default',
      'legacy: Assigned 10.96.0.3 from VipPool default',
      'web: Assigned 10.96.0.1 from VipPool default',
    ]);
    expect(allocated.every((e) => e.source?.host === 'alloc-a')).toBe(true);
    // Every status write was a merge patch guarded by the resourceVersion it was planned from.
    for (const w of statusWrites()) expect((w.body as { metadata?: { resourceVersion?: string } }).metadata?.resourceVersion).toMatch(/^\d+$/);
    expect(statusWrites('foreign')).toEqual([]);
  });

  it('pools by annotation and serviceSelector; --default-class serves classless Services', async () => {
    putPool(server, 'default', { cidrs: ['10.96.0.0/30'] });
    putPool(server, 'edge', { cidrs: ['10.97.0.0/30'], serviceSelector: { matchLabels: { tier: 'edge' } } });
    putPool(server, 'reserved', { cidrs: ['10.98.0.0/30'], autoAssign: false });
    putService(server, 'plain', { loadBalancerClass: null });
    putService(server, 'edgy', { labels: { tier: 'edge' } });
    putService(server, 'named', { annotations: { 'balanced.dev/ip-pool': 'reserved' } });
    await leader('alloc-a', { defaultClass: true });
    await waitFor(() => ['plain', 'edgy', 'named'].every((n) => (ips(`default/${n}`) ?? []).length === 1), () => JSON.stringify(statusIps(server)));
    expect(statusIps(server)).toEqual({ 'default/plain': ['10.96.0.0'], 'default/edgy': ['10.97.0.0'], 'default/named': ['10.98.0.0'] });
  });

  it('exhaustion: AllocationFailed (PoolExhausted) Event; the address freed by a delete goes to the waiting Service', async () => {
    putPool(server, 'tiny', { cidrs: ['10.96.0.0/31'] });
    putService(server, 'a', { creationTimestamp: '2025-01-01T00:00:00Z' });
    putService(server, 'b', { creationTimestamp: '2025-01-01T00:00:01Z' });
    putService(server, 'c', { creationTimestamp: '2025-01-01T00:00:02Z' });
    const r = await leader();
    await waitFor(() => events(server).some((e) => e.reason === 'AllocationFailed') && (ips('default/b') ?? []).length === 1, 'an AllocationFailed Event and b assigned');
    expect(statusIps(server)).toEqual({ 'default/a': ['10.96.0.0'], 'default/b': ['10.96.0.1'], 'default/c': [] });
    const failed = events(server).filter((e) => e.reason === 'AllocationFailed');
    expect(failed).toEqual([expect.objectContaining({ type: 'Warning', involvedObject: expect.objectContaining({ kind: 'Service', name: 'c' }), message: 'PoolExhausted: no free IPv4 address in VipPool tiny' })]);
    const metrics = await (await fetch(`${r.running.health.url}/metrics`)).text();
    expect(metrics).toContain('balanced_vip_pool_addresses{pool="tiny"} 2');
    expect(metrics).toContain('balanced_vip_pool_allocated{pool="tiny"} 2');
    expect(metrics).toContain('balanced_vip_allocation_failures_total{reason="PoolExhausted"} 1');
    expect(metrics).toContain('balanced_vip_leader 1');

    server.store.delete('services', 'a');
    await waitFor(() => (ips('default/c') ?? []).length === 1, 'c to get the freed address');
    expect(ips('default/c')).toEqual(['10.96.0.0']);
  });

  it('a type change away from LoadBalancer releases the address, which is then handed out again', async () => {
    putPool(server, 'tiny', { cidrs: ['10.96.0.0/32'] });
    putService(server, 'a', { creationTimestamp: '2025-01-01T00:00:00Z' });
    putService(server, 'b', { creationTimestamp: '2025-01-01T00:00:01Z' });
    await leader();
    await waitFor(() => ips('default/a')?.[0] === '10.96.0.0', 'a to get the only address');
    const a = server.store.get('services', 'a')!;
    server.store.put('services', { ...a, spec: { ...(a['spec'] as object), type: 'ClusterIP', loadBalancerClass: undefined } });
    await waitFor(() => ips('default/b')?.[0] === '10.96.0.0', 'b to get the released address');
    expect(ips('default/a')).toEqual([]);
    expect(events(server).find((e) => e.reason === 'IPReleased')).toMatchObject({
      involvedObject: { name: 'a' },
      message: 'Released 10.96.0.0: the Service is no longer a LoadBalancer served by balanced',
    });
  });

  it('a restart keeps every assignment without writing, and a new Service gets a free address', async () => {
    putPool(server, 'default', { cidrs: ['10.96.0.0/28'] });
    for (let i = 0; i < 6; i++) putService(server, `s${i}`, { creationTimestamp: `2025-01-01T00:00:0${i}Z` });
    const first = await leader('alloc-a');
    await waitFor(() => Object.values(statusIps(server)).every((v) => v.length === 1), 'all six assigned');
    const before = statusIps(server);
    await first.stop();
    expect(leaseHolder(server)).toBe(''); // released on stop
    server.store.delete('services', 's1'); // frees 10.96.0.1 while nobody runs
    putService(server, 'late', { creationTimestamp: '2025-01-01T00:01:00Z' });
    log.entries.length = 0;
    const second = await leader('alloc-b');
    await waitFor(() => (ips('default/late') ?? []).length === 1, 'late to be assigned');
    const after = statusIps(server);
    expect(after['default/late']).toEqual(['10.96.0.1']);
    const { 'default/s1': _gone, ...kept } = before;
    expect({ ...after, 'default/late': undefined }).toEqual({ ...kept, 'default/late': undefined });
    expect(statusWrites().map((w) => w.path)).toEqual(['/api/v1/namespaces/default/services/late/status']);
    expect(second.running.allocator.passCount).toBeGreaterThan(0);
  });

  it('two Services holding the same address (set by hand): the older keeps it, the younger gets an Event and a new address', async () => {
    putPool(server, 'default', { cidrs: ['10.96.0.0/29'] });
    putService(server, 'older', { creationTimestamp: '2025-01-01T00:00:00Z', ingress: ['10.96.0.4'] });
    putService(server, 'younger', { creationTimestamp: '2025-01-02T00:00:00Z', ingress: ['10.96.0.4'] });
    await leader();
    await waitFor(() => ips('default/younger')?.[0] !== '10.96.0.4', 'the younger to move');
    expect(statusIps(server)).toEqual({ 'default/older': ['10.96.0.4'], 'default/younger': ['10.96.0.0'] });
    expect(events(server).find((e) => e.reason === 'AllocationFailed')).toMatchObject({
      involvedObject: { name: 'younger' },
      message: expect.stringMatching(/^IpConflict: 10\.96\.0\.4 is also in the status of default\/older/),
    });
  });

  it('a 409 makes it re-read and re-plan: another writer’s address stands and is not handed out twice', async () => {
    putPool(server, 'default', { cidrs: ['10.96.0.0/30'] });
    const r = await leader();
    // Just before the allocator's first write for "a" reaches the server, another writer puts
    // 10.96.0.1 (the address the stale plan meant for "b") into a's status.
    let injected = false;
    r.proxy.hook = (method, path) => {
      if (injected || method !== 'PATCH' || path !== '/api/v1/namespaces/default/services/a/status') return;
      injected = true;
      const a = server.store.get('services', 'a')!;
      server.store.put('services', { ...a, status: { loadBalancer: { ingress: [{ ip: '10.96.0.1' }] } } });
    };
    putService(server, 'a', { creationTimestamp: '2025-01-01T00:00:00Z' });
    putService(server, 'b', { creationTimestamp: '2025-01-01T00:00:01Z' });
    await waitFor(() => (ips('default/b') ?? []).length === 1, 'b to be assigned');
    expect(injected).toBe(true);
    expect(statusWrites('a').map((w) => w.status)).toEqual([409]);
    expect(statusIps(server)).toEqual({ 'default/a': ['10.96.0.1'], 'default/b': ['10.96.0.0'] });
    expect(duplicates(server)).toEqual([]);
  });

  it('a VipPool turning invalid keeps its last valid version; an invalid pool gets an InvalidVipPool Event', async () => {
    putPool(server, 'default', { cidrs: ['10.96.0.0/30'] });
    putService(server, 'a');
    await leader();
    await waitFor(() => ips('default/a')?.[0] === '10.96.0.0', 'a to be assigned');
    putPool(server, 'default', { cidrs: ['10.96.0.1/30'] });
    await waitFor(() => events(server).some((e) => e.reason === 'InvalidVipPool'), 'an InvalidVipPool Event');
    const e = events(server).find((x) => x.reason === 'InvalidVipPool');
    expect(e).toMatchObject({ type: 'Warning', involvedObject: { kind: 'VipPool', name: 'default' } });
    expect(e?.message).toContain('spec.cidrs[0]: "10.96.0.1/30": host bits are set; did you mean "10.96.0.0/30"? (its last valid version is still used)');
    putService(server, 'b');
    await waitFor(() => (ips('default/b') ?? []).length === 1, 'b to be assigned from the last valid version');
    expect(statusIps(server)).toEqual({ 'default/a': ['10.96.0.0'], 'default/b': ['10.96.0.1'] });
  });

  it('nothing is written before the VipPools are listed: /readyz says why', async () => {
    await server.stop();
    server = await startApiServer(false); // no VipPool CRD: listing VipPools answers 404
    putService(server, 'a', { ingress: ['10.96.0.9'] });
    const r = await replica();
    await waitFor(() => r.running.elector.isLeader(), 'to lead');
    const ready = await fetch(`${r.running.health.url}/readyz`);
    expect(ready.status).toBe(503);
    expect(await ready.text()).toMatch(/VipPools listed: false \(HTTP 404: the server could not find the requested resource; is deploy\/vippool-crd\.yaml applied\?\)/);
    expect(await r.running.allocator.runOnce()).toBeUndefined(); // no pass without the pools
    expect(r.running.allocator.passCount).toBe(0);
    expect(statusWrites()).toEqual([]);
    expect(ips('default/a')).toEqual(['10.96.0.9']); // not released for want of pools
  });
});
