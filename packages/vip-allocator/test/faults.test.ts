// The allocator under faults (issue 13, item 4), end to end: the real startAllocator against
// the test API server over HTTP, restarted while a VipPool is invalid or deleted, and with the
// API server refusing or failing one Service's status write. A pool being deleted stays
// (Terminating, by the allocator's finalizer) while Services hold addresses from it, and an
// invalid pool keeps its last valid cidrs recorded on it: what the directors and announcers read.

import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { CustomObjectsApi } from '@kubernetes/client-node';
import { ADDRESSES_IN_USE_FINALIZER, LAST_VALID_CIDRS_ANNOTATION, vipRangesFromPools } from '@balanced/k8s';
import { faultScenario, secondsSince, type TestApiServer } from '@balanced/testkit';

import { events, putPool, putService, startApiServer, startReplica, statusIps, type Replica } from './harness.js';
import { waitFor } from './poll.js';
import type { ProxyReply, RequestLog } from './tagging-proxy.js';

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

async function leader(identity: string): Promise<Replica> {
  const r = await startReplica(server, identity, log);
  replicas.push(r);
  await waitFor(() => r.running.synced() && r.running.elector.isLeader(), `${identity} to sync and lead`);
  return r;
}

async function stop(r: Replica): Promise<void> {
  await r.stop();
  replicas.splice(replicas.indexOf(r), 1);
}

const ips = (key: string): string[] | undefined => statusIps(server)[key];
const statusWrites = (name: string) => log.entries.filter((e) => e.method === 'PATCH' && e.path === `/api/v1/namespaces/default/services/${name}/status`);
const metricsOf = async (r: Replica): Promise<string> => (await fetch(`${r.running.health.url}/metrics`)).text();

/** The pool's finalizers and recorded cidrs, as stored. */
function upkeepOf(name: string): { present: boolean; deleting: boolean; recorded: string | undefined; finalizers: string[] } {
  const pool = server.store.get('vippools', name) as { metadata: { deletionTimestamp?: string; finalizers?: string[]; annotations?: Record<string, string> } } | undefined;
  return {
    present: pool !== undefined,
    deleting: pool?.metadata.deletionTimestamp !== undefined,
    recorded: pool?.metadata.annotations?.[LAST_VALID_CIDRS_ANNOTATION],
    finalizers: pool?.metadata.finalizers ?? [],
  };
}

/** A new spec for the pool, its metadata (finalizers, annotations) kept, as `kubectl edit` does. */
function editPoolSpec(name: string, spec: Record<string, unknown>): void {
  const pool = server.store.get('vippools', name) as Record<string, unknown> | undefined;
  if (pool === undefined) throw new Error(`no VipPool ${name}`);
  server.store.put('vippools', { ...pool, spec });
}

async function waitForMetric(r: Replica, line: RegExp): Promise<void> {
  const deadline = Date.now() + 5000;
  let text = await metricsOf(r);
  while (!line.test(text)) {
    if (Date.now() > deadline) throw new Error(`no ${line.source} in the metrics: ${text.split('\n').filter((l) => l.startsWith('balanced_vip_')).join(' ')}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
    text = await metricsOf(r);
  }
}

/** A Kubernetes Status, as the API server (or an admission webhook through it) refuses with. */
function refusal(code: number, reason: string, message: string): ProxyReply {
  return { status: code, body: { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code } };
}

describe('allocator restarts while a VipPool is unreadable', () => {
  for (const fault of ['invalid', 'deleted'] as const) {
    it(`a pool ${fault} across a restart: every address in use stays, with an AddressOutsidePools Event and metric; new Services still get addresses; the pool's ranges stay recorded on it for the directors`, async () => {
      const saw =
        fault === 'invalid'
          ? 'AddressOutsidePools Warning Event per address kept; balanced_vip_addresses_outside_pools metric; no IPReleased; the last valid cidrs stay recorded on the pool (last-valid.balanced.dev/cidrs), which directors and announcers keep owning'
          : 'the pool stays Terminating (finalizer balanced.dev/addresses-in-use) while Services hold its addresses: VipPoolInUse Warning Event naming them, balanced_vip_pools_deletion_waiting 1; AddressOutsidePools Warning Event per address kept; balanced_vip_addresses_outside_pools metric; no IPReleased; the pool goes once no Service holds an address from it';
      const record = await faultScenario(`allocator restart with ${fault === 'invalid' ? 'an invalid' : 'a deleted'} VipPool`, saw);
      putPool(server, 'default', { cidrs: ['10.96.0.0/30'] });
      putPool(server, 'gold', { cidrs: ['10.97.0.0/30'], autoAssign: false });
      putService(server, 'a', { annotations: { 'balanced.dev/ip-pool': 'gold' }, creationTimestamp: '2025-01-01T00:00:00Z' });
      putService(server, 'b', { annotations: { 'balanced.dev/ip-request': '10.97.0.2' }, creationTimestamp: '2025-01-01T00:00:01Z' });
      putService(server, 'c', { creationTimestamp: '2025-01-01T00:00:02Z' });
      const first = await leader('alloc-a');
      await waitFor(() => ['a', 'b', 'c'].every((n) => (ips(`default/${n}`) ?? []).length === 1), () => JSON.stringify(statusIps(server)));
      expect(statusIps(server)).toEqual({ 'default/a': ['10.97.0.0'], 'default/b': ['10.97.0.2'], 'default/c': ['10.96.0.0'] });
      // The leader records each pool's valid cidrs on it and holds its finalizer.
      await waitFor(() => ['default', 'gold'].every((n) => upkeepOf(n).finalizers.includes(ADDRESSES_IN_USE_FINALIZER)), () => JSON.stringify(server.store.list('vippools')));
      expect(upkeepOf('gold').recorded).toBe('["10.97.0.0/30"]');
      await stop(first);

      // While nobody runs, the gold pool turns invalid (a typo in its spec) or is deleted (through the API, as kubectl does).
      if (fault === 'invalid') editPoolSpec('gold', { cidrs: ['10.97.0.1/30'], autoAssign: false });
      else await server.kubeConfig().makeApiClient(CustomObjectsApi).deleteClusterCustomObject({ group: 'balanced.dev', version: 'v1alpha1', plural: 'vippools', name: 'gold' });
      log.entries.length = 0;
      const restarted = Date.now();
      const second = await leader('alloc-b');
      await waitFor(() => events(server).filter((e) => e.reason === 'AddressOutsidePools').length === 2, 'two AddressOutsidePools Events');
      const recoverySeconds = secondsSince(restarted); // until the new leader has reported both kept addresses
      // A later pass: a new Service is assigned, so any write for a or b would have happened by now.
      putService(server, 'late', { creationTimestamp: '2025-01-01T00:01:00Z' });
      await waitFor(() => (ips('default/late') ?? []).length === 1, 'late to be assigned');

      expect(statusIps(server)).toEqual({ 'default/a': ['10.97.0.0'], 'default/b': ['10.97.0.2'], 'default/c': ['10.96.0.0'], 'default/late': ['10.96.0.1'] });
      expect([...statusWrites('a'), ...statusWrites('b')]).toEqual([]);
      const outside = events(server).filter((e) => e.reason === 'AddressOutsidePools');
      expect(outside.map((e) => `${e.type} ${e.involvedObject.name}: ${e.message.split(';')[0]}`).sort()).toEqual([
        'Warning a: 10.97.0.0 is in no valid VipPool (its pool was deleted, is invalid, or no longer covers it)',
        'Warning b: 10.97.0.2 is in no valid VipPool (its pool was deleted, is invalid, or no longer covers it)',
      ]);
      expect(events(server).filter((e) => e.reason === 'IPReleased')).toEqual([]);
      expect(await metricsOf(second)).toMatch(/^balanced_vip_addresses_outside_pools 2$/m);
      // What the directors and announcers read: the pool is still there, with its ranges recorded.
      expect(upkeepOf('gold')).toEqual({ present: true, deleting: fault === 'deleted', recorded: '["10.97.0.0/30"]', finalizers: [ADDRESSES_IN_USE_FINALIZER] });
      expect(vipRangesFromPools(server.store.list('vippools')).set.cidrs.map((c) => c.text)).toEqual(['10.96.0.0/30', '10.97.0.0/30']);
      const before = { 'default/a': ['10.97.0.0'], 'default/b': ['10.97.0.2'], 'default/c': ['10.96.0.0'] };
      const lostServices = Object.entries(before).filter(([k, v]) => JSON.stringify(ips(k)) !== JSON.stringify(v)).length;

      if (fault === 'invalid') {
        // Fixed: the addresses are inside a valid pool again; nothing is written, the metric drops.
        editPoolSpec('gold', { cidrs: ['10.97.0.0/30'], autoAssign: false });
        await waitForMetric(second, /^balanced_vip_addresses_outside_pools 0$/m);
        expect([...statusWrites('a'), ...statusWrites('b')]).toEqual([]);
      } else {
        await waitFor(() => events(server).some((e) => e.reason === 'VipPoolInUse'), 'a VipPoolInUse Event');
        expect(events(server).filter((e) => e.reason === 'VipPoolInUse').map((e) => `${e.type} ${e.involvedObject.kind}/${e.involvedObject.name}: ${e.message.split('(')[0]}`)).toEqual([
          'Warning VipPool/gold: being deleted, kept while Services hold addresses from it ',
        ]);
        expect(events(server).find((e) => e.reason === 'VipPoolInUse')?.message).toContain('default/a, default/b.');
        await waitForMetric(second, /^balanced_vip_pools_deletion_waiting 1$/m);
        // a moves to another pool; b is deleted: nothing holds an address from gold, and it goes.
        putService(server, 'a', { annotations: { 'balanced.dev/ip-pool': 'default' }, creationTimestamp: '2025-01-01T00:00:00Z', ingress: ['10.97.0.0'] });
        server.store.delete('services', 'b', 'default');
        await waitFor(() => !upkeepOf('gold').present, () => `gold to go: ${JSON.stringify(server.store.list('vippools'))}\n${second.logs.slice(-5).join('\n')}`);
        expect(ips('default/a')).toEqual(['10.96.0.2']);
        await waitForMetric(second, /^balanced_vip_pools_deletion_waiting 0$/m);
      }
      await record({ recoverySeconds, lostServices, droppedConnections: null, operatorSaw: saw });
    });
  }
});

describe('one Service whose status write fails does not hold up the others', () => {
  it('a refused write (403, 422 or a webhook denial): the other Services get their addresses; a StatusWriteRefused Event and metric; it is retried on the next pass', async () => {
    const saw = 'StatusWriteRefused Warning Event naming the HTTP code and the refusal; balanced_vip_status_writes_total{result="refused"}';
    const record = await faultScenario("one Service's status write refused (403, 422, webhook denial)", saw);
    putPool(server, 'default', { cidrs: ['10.96.0.0/29'] });
    const r = await leader('alloc-a');
    const refuse: Record<string, ProxyReply> = {
      b: refusal(403, 'Forbidden', 'services "b" is forbidden: User "system:serviceaccount:balanced-system:balanced-vip-allocator" cannot patch resource "services/status"'),
      c: refusal(422, 'Invalid', 'Service "c" is invalid: status.loadBalancer.ingress[0].ip: Invalid value'),
      d: refusal(400, 'BadRequest', 'admission webhook "policy.example.com" denied the request: no LoadBalancer addresses on Fridays'),
    };
    r.proxy.hook = (method, path) => {
      const m = /^\/api\/v1\/namespaces\/default\/services\/([^/]+)\/status$/.exec(path);
      return method === 'PATCH' && m !== null ? refuse[m[1] ?? ''] : undefined;
    };
    for (const [i, name] of ['a', 'b', 'c', 'd', 'e'].entries()) putService(server, name, { creationTimestamp: `2025-01-01T00:00:0${i}Z` });
    await waitFor(() => (ips('default/a') ?? []).length === 1 && (ips('default/e') ?? []).length === 1, () => `a and e to be assigned: ${JSON.stringify(statusIps(server))}\n${r.logs.slice(-5).join('\n')}`);
    await waitFor(() => events(server).filter((e) => e.reason === 'StatusWriteRefused').length === 3, 'three StatusWriteRefused Events');
    expect(statusIps(server)).toMatchObject({ 'default/b': [], 'default/c': [], 'default/d': [] });
    const refused = events(server).filter((e) => e.reason === 'StatusWriteRefused');
    expect(refused.map((e) => [e.type, e.involvedObject.name, /\(HTTP (\d+)\)/.exec(e.message)?.[1]]).sort()).toEqual([
      ['Warning', 'b', '403'],
      ['Warning', 'c', '422'],
      ['Warning', 'd', '400'],
    ]);
    expect(refused.find((e) => e.involvedObject.name === 'd')?.message).toContain('admission webhook "policy.example.com" denied the request');
    expect(await metricsOf(r)).toMatch(/^balanced_vip_status_writes_total\{result="refused"\} [3-9]\d*$/m);

    // The refusal is lifted (RBAC fixed, webhook changed): the next pass writes them.
    const lostServices = ['a', 'e'].filter((n) => (ips(`default/${n}`) ?? []).length !== 1).length; // the ones not refused
    const lifted = Date.now();
    r.proxy.hook = undefined;
    r.running.allocator.markDirty();
    await waitFor(() => ['b', 'c', 'd'].every((n) => (ips(`default/${n}`) ?? []).length === 1), () => JSON.stringify(statusIps(server)));
    expect(new Set(Object.values(statusIps(server)).flat()).size).toBe(5);
    await record({ recoverySeconds: secondsSince(lifted), lostServices, droppedConnections: null, operatorSaw: saw });
  });

  it('a write that fails with 500: the later Services are still written in the same pass, and the failed one is retried with backoff', async () => {
    putPool(server, 'default', { cidrs: ['10.96.0.0/29'] });
    const r = await leader('alloc-a');
    let failures = 0;
    r.proxy.hook = (method, path) => {
      if (method !== 'PATCH' || path !== '/api/v1/namespaces/default/services/b/status' || failures >= 2) return undefined;
      failures++;
      return refusal(500, 'InternalError', 'etcdserver: request timed out');
    };
    for (const [i, name] of ['a', 'b', 'c'].entries()) putService(server, name, { creationTimestamp: `2025-01-01T00:00:0${i}Z` });
    await waitFor(() => ['a', 'b', 'c'].every((n) => (ips(`default/${n}`) ?? []).length === 1), () => JSON.stringify(statusIps(server)));
    expect(failures).toBe(2);
    // c was written right after b's first failure, before any retry of b.
    const bFirst = statusWrites('b')[0];
    const cFirst = statusWrites('c')[0];
    expect(bFirst?.status).toBe(500);
    expect(cFirst?.status).toBe(200);
    expect(cFirst!.seq).toBeLessThan(statusWrites('b')[1]!.seq);
    expect(events(server).filter((e) => e.reason === 'StatusWriteRefused')).toEqual([]);
    expect(await metricsOf(r)).toMatch(/^balanced_vip_status_writes_total\{result="error"\} 2$/m);
  });
});
