// The announcer keeps announcing a Service's VIP when the VipPool it came from can no longer be
// read (issue 13): real BIRD 2 on a director and a router (two-directors-lab.ts, one director),
// the announcer reading the test API server (VipPools watched, no extra `cidrs`: the pools are
// the only VIP ranges). The router's kernel table is the judge.
//
// The pools carry what the leader-elected vip-allocator writes on them (vipPoolUpkeep of
// @balanced/k8s, applied by its PoolUpkeepWriter; vip-allocator/test/faults.test.ts shows the
// real allocator writing it): the last valid cidrs and the finalizer.
// - "invalid pool across a restart": the announcer stops, the pool's spec turns invalid, a new
//   announcer starts (it never saw the pool valid): the VIP stays announced.
// - "pool deleted": the pool is deleted through the API while a Service holds an address from
//   it: it stays Terminating (finalizer) and the VIP stays announced, across a restart too.
// A marker Service in another pool turns ready after each step: once its route is on the router
// the announcer has applied a config planned after the step, so "still announced" is not read
// too early.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { CustomObjectsApi, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { vipPoolUpkeep } from '@balanced/k8s';
import { TestApiServer, deleteNetns } from '@balanced/testkit';
import { startAnnouncer, type RunningAnnouncer } from '../src/index.js';
import { service, slice, vipPool } from './k8s-objects.js';
import { missingPrerequisite } from './prerequisites.js';
import { createLab, directorAnnouncerConfig, loggerInto, routerNexthops, waitForNexthops, type DirectorNode, type RouterNode } from './two-directors-lab.js';

const skip = missingPrerequisite({ root: true });

const VIPPOOL_CRD = { group: 'balanced.dev', version: 'v1alpha1', plural: 'vippools', kind: 'VipPool', namespaced: false } as const;
const VIP = '10.96.100.10';
/** In another pool; inside 10.96.100.0/24, all the router (example/bird/router.conf) accepts. */
const MARKER_VIP = '10.96.100.200';
const CEILING_MS = 30_000;

describe.each(skip === undefined ? [['one director, one router, VipPools as the only VIP ranges']] : [])('%s', () => {
  const namespaces: string[] = [];
  const logs: string[] = [];
  let workDir: string;
  let api: TestApiServer;
  let router: RouterNode;
  let director: DirectorNode;
  let announcer: RunningAnnouncer | undefined;

  async function explain(): Promise<string> {
    return [`--- announcer`, ...logs.slice(-20), `--- director BIRD log`, await director.bird.logTail(15), `--- router BIRD log`, await router.bird.logTail(15)].join('\n');
  }

  async function expectNexthops(vip: string, expected: readonly string[]): Promise<void> {
    try {
      await waitForNexthops(router, vip, expected, Date.now(), CEILING_MS);
    } catch (e) {
      throw new Error(`${(e as Error).message}\n${await explain()}`, { cause: e });
    }
  }

  async function start(): Promise<RunningAnnouncer> {
    return startAnnouncer(
      { config: directorAnnouncerConfig(director), kubeConfig: api.kubeConfig(), defaultClass: false, controllerProbe: () => Promise.resolve({ ok: true, detail: 'director ready' }), resyncSeconds: 3600, watchPools: true },
      loggerInto(logs),
    );
  }

  async function restart(): Promise<void> {
    await announcer?.stop();
    announcer = await start();
  }

  /** What the vip-allocator leader writes on the pool (recorded cidrs, finalizer), applied through the API. */
  async function allocatorUpkeep(name: string): Promise<void> {
    const services = api.store.list('services');
    const held = services.flatMap((s) => ((s['status'] as { loadBalancer?: { ingress?: { ip?: string }[] } }).loadBalancer?.ingress ?? []).map((e) => ({ ip: e.ip ?? '', by: `default/${s.metadata.name}` })));
    const upkeep = vipPoolUpkeep(api.store.get('vippools', name), held);
    if (upkeep?.patch === undefined) return;
    await api
      .kubeConfig()
      .makeApiClient(CustomObjectsApi)
      .patchClusterCustomObject({ group: 'balanced.dev', version: 'v1alpha1', plural: 'vippools', name, body: upkeep.patch }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
  }

  /** The marker Service turns ready (or not): its route shows the announcer applied a config planned after what came before. */
  async function markerReady(ready: boolean): Promise<void> {
    api.store.put('endpointslices', slice({ service: 'marker', endpoints: { '10.244.1.20': ready } }));
    await expectNexthops(MARKER_VIP, ready ? [director.address] : []);
  }

  beforeAll(async () => {
    workDir = mkdtempSync(join(tmpdir(), 'vipa-pool-faults-'));
    api = await TestApiServer.start({ customResources: [VIPPOOL_CRD] });
    api.store.put('vippools', vipPool('gold', ['10.96.100.0/25']));
    api.store.put('vippools', vipPool('silver', ['10.96.100.128/25']));
    api.store.put('services', service({ name: 'web', vips: [VIP] }));
    api.store.put('endpointslices', slice({ service: 'web', endpoints: { '10.244.1.10': true } }));
    api.store.put('services', service({ name: 'marker', vips: [MARKER_VIP] }));
    api.store.put('endpointslices', slice({ service: 'marker', endpoints: { '10.244.1.20': false } }));
    for (const name of ['gold', 'silver']) await allocatorUpkeep(name);
    const lab = await createLab(workDir, namespaces);
    router = lab.router;
    director = lab.directors[0] as DirectorNode;
    await (lab.directors[1] as DirectorNode).bird.stop();
    announcer = await start();
    await expectNexthops(VIP, [director.address]);
  });

  afterAll(async () => {
    await announcer?.stop().catch(() => undefined);
    await director?.bird.stop().catch(() => undefined);
    await router?.bird.stop().catch(() => undefined);
    for (const n of namespaces) await deleteNetns(n);
    await api?.stop();
    if (workDir !== undefined) rmSync(workDir, { recursive: true, force: true });
  });

  test('invalid pool across a restart: the route stays announced for the Service\'s VIP', async () => {
    await announcer?.stop();
    announcer = undefined;
    const gold = api.store.get('vippools', 'gold') as Record<string, unknown>;
    api.store.put('vippools', { ...gold, spec: { cidrs: ['10.96.100.1/25'] } }); // a typo: host bits set
    announcer = await start();
    await markerReady(true);
    expect(await routerNexthops(router, VIP)).toEqual([director.address]);
    expect(announcer.plan()?.announced.map((a) => `${a.vip} ${a.pool}`)).toEqual([`${VIP} gold`, `${MARKER_VIP} silver`]); // still gold's VIP (its communities)
    expect(logs.some((l) => l.includes('VipPool gold is invalid') && l.includes('recorded on it by the vip-allocator'))).toBe(true);
    api.store.put('vippools', { ...gold }); // fixed again
    await markerReady(false);
    expect(await routerNexthops(router, VIP)).toEqual([director.address]);
  });

  test('pool deleted while a Service holds its address: it stays Terminating, the route stays announced, across a restart too', async () => {
    await api.kubeConfig().makeApiClient(CustomObjectsApi).deleteClusterCustomObject({ group: 'balanced.dev', version: 'v1alpha1', plural: 'vippools', name: 'gold' });
    expect((api.store.get('vippools', 'gold') as { metadata: { deletionTimestamp?: string } } | undefined)?.metadata.deletionTimestamp).toBeDefined();
    await allocatorUpkeep('gold'); // web holds 10.96.100.10: the finalizer stays
    await markerReady(true);
    expect(await routerNexthops(router, VIP)).toEqual([director.address]);
    await restart();
    await markerReady(false);
    expect(await routerNexthops(router, VIP)).toEqual([director.address]);
    expect(announcer?.plan()?.announced.map((a) => a.vip)).toEqual([VIP]);

    // The Service lets the address go: the allocator lets the pool go, and only then is the route withdrawn.
    const web = api.store.get('services', 'web') as Record<string, unknown>;
    api.store.put('services', { ...web, status: { loadBalancer: {} } });
    await allocatorUpkeep('gold');
    expect(api.store.get('vippools', 'gold')).toBeUndefined();
    await expectNexthops(VIP, []);
  });
});
