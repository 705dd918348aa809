import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { existsSync } from 'node:fs';
import { IpvsClient, ServiceFlags, type IpvsOperation, type ServiceKey } from '@balanced/ipvs';
import { RouteClient } from '@balanced/netlink';
import { createNetns, deleteNetns, runChecked } from '@balanced/testkit';
import { ipvsKernel, Reconciler, type DesiredDestination, type DesiredService, type IpvsKernel } from '../src/index.js';
import { syncVips } from '../src/vips.js';

// Inside the lab VM: the reconciler against real IPVS in test namespaces (two "directors").
const owns = (k: ServiceKey): boolean => !('fwmark' in k) && k.address.startsWith('10.96.');
const VIP: AddressKey = { protocol: 'tcp', address: '10.96.0.10', port: 80 };
const VIP2: ServiceKey = { protocol: 'udp', address: '10.96.0.11', port: 53 };

/** A virtual service by address (the controller never programs firewall marks). */
type AddressKey = Extract<ServiceKey, { port: number }>;

function service(key: AddressKey, backends: readonly (readonly [number, boolean?])[]): DesiredService {
  const destinations = backends
    .map(([n, drained]): DesiredDestination => ({ address: `10.244.0.${n}`, port: key.port, forwarding: 'tunnel', weight: drained ? 0 : 1, lastWeight: 1 }))
    .sort((a, b) => Number(a.address.split('.')[3]) - Number(b.address.split('.')[3]));
  return { spec: { key, scheduler: 'mh', flags: ServiceFlags.MH_FALLBACK }, destinations, drainSeconds: 30 };
}

interface Director {
  readonly ns: string;
  readonly client: IpvsClient;
  readonly route: RouteClient;
  readonly writes: IpvsOperation[];
  reconciler(): Reconciler;
  dispose(): Promise<void>;
}

async function director(): Promise<Director> {
  if (!existsSync('/proc/net/ip_vs')) throw new Error('no IPVS in this kernel: run with `npm run test:kernel` (lab VM)');
  const ns = await createNetns();
  const client = await IpvsClient.open({ netns: `/run/netns/${ns}` });
  const route = RouteClient.open({ netns: `/run/netns/${ns}` });
  const writes: IpvsOperation[] = [];
  const real = ipvsKernel(client);
  const counting: IpvsKernel = { dump: () => real.dump(), read: (keys) => real.read(keys), apply: (ops) => (writes.push(...ops), real.apply(ops)) };
  return {
    ns,
    client,
    route,
    writes,
    reconciler: () => new Reconciler({ kernel: counting, owns, defaultDrainSeconds: 30, onVips: async (v) => void (await syncVips(route, 'balanced0', v, (ip) => ip.startsWith('10.96.'))) }),
    async dispose() {
      client.close();
      route.close();
      await deleteNetns(ns);
    },
  };
}

const order = async (d: Director, key: ServiceKey) => (await d.client.listDestinations(key)).map((x) => `${x.address}:${x.weight}`);

let a: Director;
let b: Director;
beforeAll(async () => {
  a = await director();
  b = await director();
});
afterAll(async () => {
  await a?.dispose();
  await b?.dispose();
});

describe('reconciler against real IPVS', () => {
  test('converges, keeps VIPs on the dummy interface, and director order (highest address first) survives a mid-list scale-up', async () => {
    const r = a.reconciler();
    const first = await r.reconcile([service(VIP, [[5], [7], [9]]), service(VIP2, [[3]])]);
    expect(first.failed).toEqual([]);
    expect(await order(a, VIP)).toEqual(['10.244.0.9:1', '10.244.0.7:1', '10.244.0.5:1']);
    const shown = await runChecked('ip', ['-n', a.ns, '-o', 'addr', 'show', 'dev', 'balanced0']);
    expect(shown).toContain('10.96.0.10/32');
    expect(shown).toContain('10.96.0.11/32');

    // a backend that sorts in the middle: the part in front of it is rebuilt
    const second = await r.reconcile([service(VIP, [[5], [6], [7], [9]]), service(VIP2, [[3]])]);
    expect(second.failed).toEqual([]);
    expect(await order(a, VIP)).toEqual(['10.244.0.9:1', '10.244.0.7:1', '10.244.0.6:1', '10.244.0.5:1']);

    // the common scale-up, a backend with a higher address: one op at the head
    const before = a.writes.length;
    const third = await r.reconcile([service(VIP, [[5], [6], [7], [9], [10]]), service(VIP2, [[3]])]);
    expect(third.failed).toEqual([]);
    expect(a.writes.slice(before).map((o) => o.op)).toEqual(['add-destination']);
    expect(await order(a, VIP)).toEqual(['10.244.0.10:1', '10.244.0.9:1', '10.244.0.7:1', '10.244.0.6:1', '10.244.0.5:1']);
    await r.reconcile([service(VIP, [[5], [6], [7], [9]]), service(VIP2, [[3]])]); // (it drains)
    await r.reconcile([service(VIP, [[5], [6], [7], [9]]), service(VIP2, [[3]])]); // (and goes)
  });

  test('a restarted controller makes zero netlink writes when nothing changed', async () => {
    const before = a.writes.length;
    const restarted = a.reconciler(); // fresh memory, same kernel
    const report = await restarted.reconcile([service(VIP, [[5], [6], [7], [9]]), service(VIP2, [[3]])]);
    expect(report.ops).toEqual([]);
    expect(a.writes.length).toBe(before);
  });

  test('an idle destination that leaves is drained to weight 0, then deleted; a removed service goes', async () => {
    const r = a.reconciler();
    const want = [service(VIP, [[5], [7], [9]])];
    await r.reconcile(want);
    expect(await order(a, VIP)).toEqual(['10.244.0.9:1', '10.244.0.7:1', '10.244.0.6:0', '10.244.0.5:1']);
    await r.reconcile(want);
    expect(await order(a, VIP)).toEqual(['10.244.0.9:1', '10.244.0.7:1', '10.244.0.5:1']);
    expect((await a.client.listServices()).map((s) => s.key)).toEqual([VIP]);
    expect(await runChecked('ip', ['-n', a.ns, '-o', 'addr', 'show', 'dev', 'balanced0'])).not.toContain('10.96.0.11');
  });

  test('two directors with different histories end with identical tables', async () => {
    const final = [service(VIP, [[2], [5], [7, true], [9], [11]])];
    // a: incremental history from the state above; b: fresh start
    const ra = a.reconciler();
    await ra.reconcile([service(VIP, [[5], [7], [9], [11]])]);
    await ra.reconcile([service(VIP, [[2], [5], [7], [9], [11]])]);
    await ra.reconcile(final);
    await b.reconciler().reconcile(final);
    const dumpA = await a.client.dump();
    const dumpB = await b.client.dump();
    const shape = (d: typeof dumpA) => d.map((s) => ({ key: s.service.key, sched: s.service.scheduler, flags: s.service.flags, dests: s.destinations.map((x) => [x.address, x.weight]) }));
    expect(shape(dumpA)).toEqual(shape(dumpB));
    expect(await order(b, VIP)).toEqual(['10.244.0.11:1', '10.244.0.9:1', '10.244.0.7:0', '10.244.0.5:1', '10.244.0.2:1']);
  });
});

describe('raw-table NOTRACK for the VIP CIDRs', () => {
  test('installs the chain and one jump, idempotently, and leaves other rules alone', async () => {
    const { applyNotrack } = await import('../src/notrack.js');
    await runChecked('ip', ['netns', 'exec', a.ns, 'iptables', '-w', '-t', 'raw', '-A', 'PREROUTING', '-s', '192.0.2.1', '-j', 'ACCEPT']);
    await applyNotrack(['10.96.0.0/24'], { netns: a.ns });
    await applyNotrack(['10.96.0.0/24', '10.97.0.0/16'], { netns: a.ns });
    const saved = await runChecked('ip', ['netns', 'exec', a.ns, 'iptables-save', '-t', 'raw']);
    expect(saved.match(/-A PREROUTING -j BALANCED-NOTRACK/g)).toHaveLength(1);
    expect(saved).toContain('-A PREROUTING -s 192.0.2.1/32 -j ACCEPT');
    expect(saved).toContain('-A BALANCED-NOTRACK -d 10.96.0.0/24 -j CT --notrack');
    expect(saved).toContain('-A BALANCED-NOTRACK -d 10.97.0.0/16 -j CT --notrack');
    expect(saved.match(/10\.96\.0\.0\/24/g)).toHaveLength(1);
  });
});

describe('director sysctls', () => {
  test('are set inside the target namespace only', async () => {
    const { applySysctls } = await import('../src/sysctls.js');
    const read = async (ns: string) => (await runChecked('ip', ['netns', 'exec', ns, 'sysctl', '-n', 'net.ipv4.vs.sloppy_tcp', 'net.ipv4.vs.conntrack', 'net.ipv4.vs.conn_reuse_mode'])).split('\n').filter(Boolean);
    const before = await read(b.ns);
    const changed = applySysctls({ netns: `/run/netns/${a.ns}` });
    expect(changed.map((c) => c.name)).toContain('net.ipv4.vs.sloppy_tcp');
    expect(await read(a.ns)).toEqual(['1', '0', '2']);
    expect(await read(b.ns)).toEqual(before);
    expect(applySysctls({ netns: `/run/netns/${a.ns}` })).toEqual([]);
  });

  test('pod networking only checks them: what differs is reported, nothing is written', async () => {
    const { checkSysctls } = await import('../src/sysctls.js');
    const read = async (ns: string) => (await runChecked('ip', ['netns', 'exec', ns, 'sysctl', '-n', 'net.ipv4.vs.sloppy_tcp'])).trim();
    const before = await read(b.ns);
    const wrong = checkSysctls({ netns: `/run/netns/${b.ns}` });
    if (before !== '1') expect(wrong).toContainEqual({ name: 'net.ipv4.vs.sloppy_tcp', from: before, to: '1' });
    expect(await read(b.ns)).toBe(before);
    expect(checkSysctls({ netns: `/run/netns/${a.ns}` })).toEqual([]); // set by the test above
  });
});
