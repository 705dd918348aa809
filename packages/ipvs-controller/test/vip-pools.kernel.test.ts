import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { IpvsClient, type ServiceKey } from '@balanced/ipvs';
import { createNetns, deleteNetns, runChecked, TestApiServer } from '@balanced/testkit';
import { startController, type RunningController } from '../src/app.js';
import { parseControllerArgs } from '../src/options.js';

// Inside the lab VM: the director as its DaemonSet runs it (no --vip-cidr: the VIP ranges come
// from the VipPools), with the real client-node against the test API server (VipPools served)
// and real IPVS in a test namespace.
const VIP = '10.96.100.10';
const KEY: ServiceKey = { protocol: 'tcp', address: VIP, port: 80 };
const VIPPOOL_CRD = { group: 'balanced.dev', version: 'v1alpha1', plural: 'vippools', kind: 'VipPool', namespaced: false } as const;

let server: TestApiServer;
let ns: string;
let ipvs: IpvsClient;
let running: RunningController | undefined;

async function eventually<T>(what: string, probe: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T = await probe();
  while (!ok(last)) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last: ${JSON.stringify(last)}`);
    await new Promise((r) => setTimeout(r, 200));
    last = await probe();
  }
  return last;
}
const services = async (): Promise<string[]> => (await ipvs.listServices()).map((s) => JSON.stringify(s.key));
const vips = async (): Promise<string> => runChecked('ip', ['-n', ns, '-o', 'addr', 'show', 'dev', 'balanced0']).catch(() => '');

beforeAll(async () => {
  server = await TestApiServer.start({ bookmarkIntervalMs: 500, customResources: [VIPPOOL_CRD] });
  ns = await createNetns();
  ipvs = await IpvsClient.open({ netns: `/run/netns/${ns}` });
  const dir = mkdtempSync(join(tmpdir(), 'ctl-pools-'));
  writeFileSync(join(dir, 'kubeconfig'), server.kubeconfigYaml());
  const { config } = parseControllerArgs(['--kubeconfig', join(dir, 'kubeconfig'), '--netns', `/run/netns/${ns}`, '--metrics-port', '0', '--drain-seconds', '1']);
  expect([config.vipCidrs, config.vipPools]).toEqual([[], true]); // the binary's defaults
  running = await startController(config, pino({ level: 'silent' }));
});
afterAll(async () => {
  await running?.stop();
  ipvs?.close();
  if (ns) await deleteNetns(ns);
  await server?.stop();
});

test('no --vip-cidr: a VIP inside a VipPool is programmed, held on the dummy link and untracked (NOTRACK); one outside every pool is not', async () => {
  server.store.put('services', {
    metadata: { name: 'web', namespace: 'shop' },
    spec: { type: 'LoadBalancer', loadBalancerClass: 'balanced.dev/ipvs', ports: [{ name: 'http', protocol: 'TCP', port: 80 }] },
    status: { loadBalancer: { ingress: [{ ip: VIP }] } },
  });
  server.store.put('endpointslices', {
    metadata: { name: 'web-1', namespace: 'shop', labels: { 'kubernetes.io/service-name': 'web' } },
    addressType: 'IPv4',
    ports: [{ name: 'http', protocol: 'TCP', port: 80 }],
    endpoints: [{ addresses: ['10.244.0.7'], conditions: { ready: true } }],
  });
  // Not ours yet: nothing programmed (give the director a few passes to prove it).
  await new Promise((r) => setTimeout(r, 1500));
  expect(await services()).toEqual([]);

  server.store.put('vippools', { apiVersion: 'balanced.dev/v1alpha1', kind: 'VipPool', metadata: { name: 'default' }, spec: { cidrs: ['10.96.100.0/25'] } });
  await eventually('the VIP programmed', services, (s) => s.length === 1);
  expect(await services()).toEqual([JSON.stringify(KEY)]);
  expect((await ipvs.listDestinations(KEY)).map((d) => d.address)).toEqual(['10.244.0.7']);
  expect(await eventually('the VIP on the dummy link', vips, (t) => t.includes(`${VIP}/32`))).toContain(`${VIP}/32`);
  // The raw-table NOTRACK rules follow the pools' ranges too.
  const raw = (): Promise<string> => runChecked('ip', ['netns', 'exec', ns, 'iptables-save', '-t', 'raw']);
  expect(await eventually('NOTRACK for the pool', raw, (t) => t.includes('-A BALANCED-NOTRACK -d 10.96.100.0/25 -j CT --notrack'))).toContain('-A PREROUTING -j BALANCED-NOTRACK');

  // A second Service outside every pool stays nobody's.
  server.store.put('services', {
    metadata: { name: 'other', namespace: 'shop' },
    spec: { type: 'LoadBalancer', loadBalancerClass: 'balanced.dev/ipvs', ports: [{ name: 'http', protocol: 'TCP', port: 80 }] },
    status: { loadBalancer: { ingress: [{ ip: '10.96.100.200' }] } },
  });
  await new Promise((r) => setTimeout(r, 1500));
  expect(await services()).toEqual([JSON.stringify(KEY)]);
});
