import { afterAll, beforeAll, expect, test } from '@jest/globals';
import type { V1Service } from '@kubernetes/client-node';
import { IpvsClient, ServiceFlags, type ServiceKey } from '@balanced/ipvs';
import { clientAddress, createMhLab, runChecked, type Client, type MhLab } from '@balanced/testkit';
import { ipvsKernel, Reconciler, type DesiredService } from '../src/index.js';
import { SourceRangeFirewall } from '../src/source-range-firewall.js';
import { sourceRangeRules } from '../src/source-ranges.js';

// Inside the lab VM: a director namespace with real IPVS and real nftables, clients in their
// own namespace (test-made; the VM has no network device). A Service with
// loadBalancerSourceRanges: clients inside the range reach IPVS (they get a connection entry),
// clients outside are dropped before it, and the drops are counted.
const VIP = '10.200.0.1';
const KEY: ServiceKey = { protocol: 'tcp', address: VIP, port: 80 };
const ID = 'tcp/10.200.0.1:80';
const allowed: Client[] = Array.from({ length: 20 }, (_, i) => ({ address: clientAddress(i), port: 40000 })); // 10.100.1.x
const refused: Client[] = Array.from({ length: 20 }, (_, i) => ({ address: clientAddress(250 + i), port: 40000 })); // 10.100.2.x

const k8sService = (ranges: unknown): V1Service =>
  ({
    metadata: { namespace: 'shop', name: 'web' },
    spec: { type: 'LoadBalancer', ports: [{ protocol: 'TCP', port: 80 }], loadBalancerSourceRanges: ranges },
    status: { loadBalancer: { ingress: [{ ip: VIP }] } },
  }) as unknown as V1Service;
const desired: DesiredService = {
  spec: { key: KEY, scheduler: 'mh', flags: ServiceFlags.MH_FALLBACK },
  destinations: [1, 2, 3].map((n) => ({ address: `10.50.0.${n}`, port: 80, forwarding: 'tunnel' as const, weight: 1, lastWeight: 1 })),
  drainSeconds: 0,
};

let lab: MhLab;
let client: IpvsClient;
let firewall: SourceRangeFirewall;
let service: V1Service;
let reconciler: Reconciler;
beforeAll(async () => {
  lab = await createMhLab();
  await lab.addVip(VIP);
  client = await IpvsClient.open({ netns: `/run/netns/${lab.director}` });
  firewall = new SourceRangeFirewall({ netns: lab.director });
  // Wired as the app wires it: the firewall is asserted before anything is planned.
  reconciler = new Reconciler({
    kernel: ipvsKernel(client),
    owns: () => true,
    defaultDrainSeconds: 0,
    beforePlan: async (services) => void (await firewall.sync(sourceRangeRules([service], (id) => services.has(id)).rules)),
  });
});
afterAll(async () => {
  client?.close();
  await lab?.dispose();
});

const reached = async (clients: Client[], port: number) => {
  const r = await lab.probe(VIP, 80, clients.map((c) => ({ ...c, port })));
  return { reached: r.dest.size, dropped: r.missing.length };
};

test('only clients inside loadBalancerSourceRanges reach IPVS; the others are dropped before it and counted', async () => {
  service = k8sService(['10.100.1.0/24']);
  const r = await reconciler.reconcile([desired]);
  expect(r.failed).toEqual([]);
  expect(await reached(allowed, 40001)).toEqual({ reached: 20, dropped: 0 });
  expect(await reached(refused, 40001)).toEqual({ reached: 0, dropped: 20 });
  expect((await firewall.refused()).get(ID)).toBeGreaterThanOrEqual(20);
});

test('a range change is applied at once; the refusal count never goes back; a flushed ruleset is put back on the next pass', async () => {
  const before = (await firewall.refused()).get(ID) ?? 0;
  service = k8sService(['10.100.2.0/24']);
  await reconciler.reconcile([desired]);
  expect(await reached(allowed, 40002)).toEqual({ reached: 0, dropped: 20 });
  expect(await reached(refused, 40002)).toEqual({ reached: 20, dropped: 0 });
  expect((await firewall.refused()).get(ID)).toBeGreaterThanOrEqual(before + 20);

  await runChecked('ip', ['netns', 'exec', lab.director, 'nft', 'flush', 'ruleset']); // another tool wipes nftables
  await reconciler.reconcile([desired]);
  expect(await reached(allowed, 40003)).toEqual({ reached: 0, dropped: 20 });
});

test('malformed ranges fail closed (nobody gets in), never crash; no ranges: open to all again', async () => {
  service = k8sService(['not-a-cidr']);
  expect(sourceRangeRules([service], () => true).refusals.map((x) => x.reason)).toEqual(['InvalidSourceRange']);
  await reconciler.reconcile([desired]);
  expect(await reached(allowed, 40004)).toEqual({ reached: 0, dropped: 20 });
  service = k8sService([]);
  await reconciler.reconcile([desired]);
  expect(await reached([...allowed, ...refused], 40005)).toEqual({ reached: 40, dropped: 0 });
});
