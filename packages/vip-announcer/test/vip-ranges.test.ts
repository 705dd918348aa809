// Issue 14: the announcer reads its VIP ranges from the VipPools (no `cidrs` in its config).
// The real startAnnouncer against the test API server (VipPools served); BIRD is the scripted
// stand-in (fake-bird.ts) that takes every configuration, so what is checked is the file the
// announcer writes for BIRD to load.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it } from '@jest/globals';
import { pino } from 'pino';
import { TestApiServer } from '@balanced/testkit';
import { announcerConfigFromObject, startAnnouncer, type RunningAnnouncer } from '../src/index.js';
import { startFakeBird, type FakeBird } from './fake-bird.js';
import { service, slice, vipPool } from './k8s-objects.js';

const VIPPOOL_CRD = { group: 'balanced.dev', version: 'v1alpha1', plural: 'vippools', kind: 'VipPool', namespaced: false } as const;

let api: TestApiServer;
let bird: FakeBird;
let dir: string;
let running: RunningAnnouncer | undefined;

beforeEach(async () => {
  api = await TestApiServer.start({ customResources: [VIPPOOL_CRD] });
  bird = await startFakeBird((command) => {
    if (command.startsWith('configure check')) return { write: '0002-Reading configuration\n0020 Configuration OK\n' };
    if (command.startsWith('configure')) return { write: '0003 Reconfigured\n' };
    if (command === 'show protocols') return { write: '2002-Name       Proto      Table      State  Since         Info\n1002-balanced_vips4 Static     master4    up     21:02:04.508  \n0000 \n' };
    return { write: '0000 \n' };
  });
  dir = mkdtempSync(join(tmpdir(), 'announcer-ranges-'));
});
afterEach(async () => {
  await running?.stop();
  running = undefined;
  await bird.close();
  await api.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function until(check: () => boolean, what: () => string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what()}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

it('announces a VIP from a VipPool with no cidrs in its config; the export filter follows the pools', async () => {
  api.store.put('services', service({ name: 'web', vips: ['10.96.100.10'] }));
  api.store.put('endpointslices', slice({ service: 'web', endpoints: { '10.0.0.1': true } }));
  const outputFile = join(dir, 'balanced-vips.conf');
  const config = announcerConfigFromObject({ localAsn: 65001, neighbors: [{ name: 'tor', address: '10.0.1.1', asn: 65000 }], outputFile, birdSocket: bird.socketPath });
  expect(config.cidrs).toEqual([]);
  running = await startAnnouncer({ config, kubeConfig: api.kubeConfig(), defaultClass: false, controllerProbe: async () => true, probeIntervalMs: 20 }, pino({ level: 'silent' }));
  const r = running;
  const file = (): string => {
    try {
      return readFileSync(outputFile, 'utf8');
    } catch {
      return '';
    }
  };
  const announced = (): string[] => r.plan()?.announced.map((a) => a.vip) ?? [];

  // No pool yet: the VIP is nobody's, and the filter lets nothing out.
  await until(() => r.plan() !== undefined, () => 'a first pass');
  expect(announced()).toEqual([]);
  expect(file()).toMatch(/filter balanced_export_vips4 \{\n {2}reject;\n\}/);

  api.store.put('vippools', vipPool('default', ['10.96.100.0/24'], ['65000:100']));
  await until(() => announced().includes('10.96.100.10'), () => `the VIP announced (plan: ${JSON.stringify(r.plan())})`);
  await until(() => file().includes('route 10.96.100.10/32 blackhole'), () => `the route in the file:\n${file()}`);
  expect(file()).toContain('route 10.96.100.10/32 blackhole { bgp_community.add((65000,100)); };');
  expect(file()).toContain('net ~ [ 10.96.100.0/24{32,32} ] then accept;');

  // The pool gone: withdrawn, and the filter closed again.
  api.store.delete('vippools', 'default');
  await until(() => announced().length === 0, () => `the VIP withdrawn (plan: ${JSON.stringify(r.plan())})`);
  await until(() => !file().includes('10.96.100.10'), () => `the route gone from the file:\n${file()}`);
  expect(file()).toMatch(/filter balanced_export_vips4 \{\n {2}reject;\n\}/);
});
