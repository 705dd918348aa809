import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { existsSync } from 'node:fs';
import { release } from 'node:os';
import { serviceKeyString, type ServiceKey, type Stats } from '@balanced/ipvs';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  IN_VM_ENV,
  clientEndpoints,
  createDsrLab,
  disconnectDirector,
  endpointKey,
  failureCounts,
  pinVipRoute,
  podShares,
  readDirectorTable,
  readIpvsConnections,
  setDestinationWeight,
  succeeded,
  unpinVipRoute,
  waitForVipNexthops,
  writeBenchResults,
  type DirectorPlan,
  type DsrLab,
  type Endpoint,
  type TcpExchange,
} from '@balanced/testkit';

// End to end inside the lab VM, with every step programmed by hand (no controllers yet):
//
//   client ── router (BIRD, ECMP) ──┬── director1 (IPVS mh + mh-fallback, IPIP) ──┐
//                                   └── director2 (the same table)    ────────────┤ via router
//                                        node ── pod-a │ pod-b │ pod-c  ◄──────────┘
//   pods hold the VIP on tunl0 and answer the client directly (DSR).
//
// Client source addresses are distinct per connection (mh hashes the client address) and
// every scenario uses its own range, so IPVS entries can be told apart per scenario.
// Figures go to bench/results/dsr-datapath.json.

const figures: Record<string, unknown> = {};
let lab: DsrLab;
let vip: Endpoint;

const pods = (): string[] => lab.plan.pods.map((p) => p.name);
const director = (index: number): DirectorPlan => lab.plan.directors.find((d) => d.index === index)!;
const podByClient = (exchanges: readonly TcpExchange[]): Map<string, string> =>
  new Map(succeeded(exchanges).map((e) => [endpointKey(e.client), e.server.pod]));

/** Clients of `clients` that have a TCP entry for the VIP on this director. */
async function clientsWithEntries(d: DirectorPlan, clients: readonly Endpoint[]): Promise<number> {
  const wanted = new Set(clients.map(endpointKey));
  const seen = new Set<string>();
  for (const e of await readIpvsConnections(d)) {
    if (e.protocol === 'TCP' && e.vip === vip.address && e.vipPort === vip.port && wanted.has(`${e.client}:${e.clientPort}`)) seen.add(`${e.client}:${e.clientPort}`);
  }
  return seen.size;
}

async function tcpStats(d: DirectorPlan): Promise<Stats> {
  const table = await readDirectorTable(d);
  const tcp = table.find((s) => !('fwmark' in s.service.key) && s.service.key.protocol === 'tcp');
  const stats = tcp?.service.stats64 ?? tcp?.service.stats;
  if (stats === undefined) throw new Error(`no TCP service stats on ${d.netns}`);
  return stats;
}

/**
 * TCP stats of every director once they count at least `expected` new connections since
 * `before` (or after 10 s): IPVS folds its per-CPU counters into what it reports only when
 * its estimator runs, every 2 s.
 */
async function settledTcpStats(before: readonly Stats[], expected: number): Promise<Stats[]> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const now = await Promise.all(lab.plan.directors.map(tcpStats));
    const counted = now.reduce((sum, s, i) => sum + s.connections - before[i]!.connections, 0);
    if (counted >= expected || Date.now() > deadline) return now;
    await sleep(500);
  }
}

/** Exchanges whose view is not DSR-clean: peer ≠ VIP, or the server saw another address than the client's own. */
function notDirect(exchanges: readonly TcpExchange[]): TcpExchange[] {
  return succeeded(exchanges).filter(
    (e) =>
      e.peer.address !== vip.address ||
      e.peer.port !== vip.port ||
      e.server.local !== vip.address ||
      e.server.remote !== e.client.address ||
      e.server.remotePort !== e.client.port,
  );
}

beforeAll(async () => {
  if (process.env[IN_VM_ENV] !== '1' || !existsSync('/proc/net/ip_vs')) {
    throw new Error('needs the lab VM (IPVS, ipip, dummy): node packages/testkit/dist/cli/lab.js jest test/dsr-datapath --selectProjects kernel');
  }
  lab = await createDsrLab();
  vip = lab.target;
  figures.build = lab.timings;
});

afterAll(async () => {
  if (lab === undefined) return; // nothing measured: keep the last results
  try {
    await lab.dispose();
  } finally {
    await writeBenchResults('dsr-datapath', {
      bench: 'dsr-datapath',
      when: new Date().toISOString(),
      environment: 'lab VM (QEMU TCG, 2 vCPU, 1 GiB, Debian kernel); times are emulated',
      kernel: release(),
      topology: { directors: lab.plan.directors.length, pods: pods(), vip: `${vip.address}:${vip.port}`, scheduler: 'mh + mh-fallback', forwarding: 'ipip' },
      ...figures,
    });
  }
});

describe('DSR data path, programmed by hand', () => {
  test('both directors hold the same IPVS tables: mh + mh-fallback, IPIP destinations in the same order', async () => {
    const shape = async (d: DirectorPlan) =>
      (await readDirectorTable(d)).map((s) => ({
        key: s.service.key,
        scheduler: s.service.scheduler,
        flags: s.service.flags,
        destinations: s.destinations.map((x) => `${x.address}:${x.port} ${x.forwarding} w${x.weight}`),
      }));
    // (the service dump comes in hash-table order, which differs between namespaces)
    const byKey = (a: { key: ServiceKey }, b: { key: ServiceKey }): number => serviceKeyString(a.key).localeCompare(serviceKeyString(b.key));
    const [one, two] = [(await shape(director(1))).sort(byKey), (await shape(director(2))).sort(byKey)];
    expect(one).toEqual(two);
    expect(one.map((s) => s.scheduler)).toEqual(['mh', 'mh']);
    expect(one[0]!.destinations).toHaveLength(lab.plan.pods.length);
  });

  test('1,000 TCP connections through the VIP all succeed, replies come from the VIP, every pod gets a share', async () => {
    const before = await Promise.all(lab.plan.directors.map(tcpStats));
    const clients = clientEndpoints(0, 1000);
    const { exchanges, ms } = await lab.client.tcpBurst({ target: vip, clients, concurrency: 50 });
    const after = await settledTcpStats(before, clients.length);
    const perDirector = after.map((s, i) => s.connections - before[i]!.connections);
    const shares = podShares(exchanges);
    figures.tcp = {
      connections: clients.length,
      succeeded: succeeded(exchanges).length,
      failures: failureCounts(exchanges),
      concurrency: 50,
      ms,
      connectionsPerSecond: Math.round((clients.length / ms) * 1000),
      podShares: shares,
      connectionsPerDirector: perDirector,
      directorPacketsIn: after.map((s, i) => s.packetsIn - before[i]!.packetsIn),
      directorPacketsOut: after.map((s, i) => s.packetsOut - before[i]!.packetsOut),
    };

    expect(failureCounts(exchanges)).toEqual({});
    expect(succeeded(exchanges)).toHaveLength(clients.length);
    expect(notDirect(exchanges)).toEqual([]);
    expect(Object.keys(shares)).toEqual(pods());
    for (const n of Object.values(shares)) expect(n).toBeGreaterThan(0);
    // ECMP spread the flows over both directors, and the replies bypassed them (DSR): IPVS
    // in tunnel mode never sees a packet from a pod.
    for (const n of perDirector) expect(n).toBeGreaterThan(0);
    // (IPVS may count a few more: with sloppy_tcp a straggling packet of a finished flow, e.g. a
    // retransmitted FIN after its entry expired, makes a fresh entry)
    expect(perDirector.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(clients.length);
    expect(after.map((s, i) => s.packetsOut - before[i]!.packetsOut)).toEqual(perDirector.map(() => 0));
  });

  test('packets of one flow sprayed across both directors still reach one backend', async () => {
    const clients = clientEndpoints(2000, 100);
    await pinVipRoute(lab.plan, 1);
    const set = await lab.client.openTcp({ target: vip, clients });
    try {
      const onD1 = await clientsWithEntries(director(1), clients);
      const onD2Before = await clientsWithEntries(director(2), clients);
      await pinVipRoute(lab.plan, 2);
      const pinged = await set.ping();
      const onD2After = await clientsWithEntries(director(2), clients);
      const first = podByClient(set.opened);
      const samePod = succeeded(pinged).filter((e) => first.get(endpointKey(e.client)) === e.server.pod).length;
      figures.spray = {
        connections: clients.length,
        openedViaDirector1: succeeded(set.opened).length,
        entriesOnDirector1: onD1,
        entriesOnDirector2BeforeSwitch: onD2Before,
        answeredViaDirector2: succeeded(pinged).length,
        samePod,
        entriesOnDirector2AfterSwitch: onD2After,
        failures: failureCounts(pinged),
      };

      expect(failureCounts(set.opened)).toEqual({});
      expect({ onD1, onD2Before }).toEqual({ onD1: clients.length, onD2Before: 0 });
      expect(failureCounts(pinged)).toEqual({});
      expect(samePod).toBe(clients.length);
      // director2 created its entries from mid-stream packets (sloppy_tcp) and chose the same pods
      expect(onD2After).toBe(clients.length);
    } finally {
      await set.close();
      await unpinVipRoute(lab.plan);
    }
  });

  test('UDP request/response through the VIP: the reply comes from the VIP', async () => {
    const clients = clientEndpoints(2500, 90);
    const { exchanges, ms } = await lab.client.udp({ target: vip, clients });
    const ok = succeeded(exchanges);
    const wrongSource = ok.filter((e) => e.from.address !== vip.address || e.from.port !== vip.port || e.server.remote !== e.client.address);
    const shares = podShares(exchanges);
    figures.udp = {
      requests: clients.length,
      succeeded: ok.length,
      failures: failureCounts(exchanges),
      retried: ok.filter((e) => e.attempts > 1).length,
      replyFromVip: ok.length - wrongSource.length,
      ms,
      podShares: shares,
    };

    expect(failureCounts(exchanges)).toEqual({});
    expect(wrongSource).toEqual([]);
    expect(Object.keys(shares)).toEqual(pods());
  });

  test('scale down: weight 0 keeps established connections and steers new ones elsewhere', async () => {
    const drained = lab.plan.pods[lab.plan.pods.length - 1]!.name;
    const established = clientEndpoints(3000, 90);
    const set = await lab.client.openTcp({ target: vip, clients: established });
    try {
      expect(failureCounts(set.opened)).toEqual({});
      const onDrained = succeeded(set.opened).filter((e) => e.server.pod === drained).length;
      for (const d of lab.plan.directors) await setDestinationWeight(lab.plan, d, drained, 0);
      const pinged = await set.ping();
      const first = podByClient(set.opened);
      const samePod = succeeded(pinged).filter((e) => first.get(endpointKey(e.client)) === e.server.pod).length;
      const fresh = await lab.client.tcpBurst({ target: vip, clients: clientEndpoints(3100, 300) });
      const freshShares = podShares(fresh.exchanges);
      figures.scaleDown = {
        drainedPod: drained,
        established: established.length,
        establishedOnDrainedPod: onDrained,
        stillAnswering: succeeded(pinged).length,
        samePod,
        newConnections: fresh.exchanges.length,
        newSucceeded: succeeded(fresh.exchanges).length,
        newPodShares: freshShares,
      };

      expect(onDrained).toBeGreaterThan(0);
      expect(failureCounts(pinged)).toEqual({});
      expect(samePod).toBe(established.length);
      expect(failureCounts(fresh.exchanges)).toEqual({});
      expect(freshShares[drained]).toBeUndefined();
      expect(Object.keys(freshShares)).toEqual(pods().filter((p) => p !== drained));
    } finally {
      await set.close();
      for (const d of lab.plan.directors) await setDestinationWeight(lab.plan, d, drained, 1);
    }
  });

  test('failover: with director1 gone, at least 99% of long-lived connections keep working through director2', async () => {
    const clients = clientEndpoints(4000, 240);
    const set = await lab.client.openTcp({ target: vip, clients });
    try {
      expect(failureCounts(set.opened)).toEqual({});
      const viaD1 = await clientsWithEntries(director(1), clients);
      const viaD2 = await clientsWithEntries(director(2), clients);
      const started = Date.now();
      await disconnectDirector(lab.plan, 1);
      const [pinged, routeMs] = await Promise.all([
        set.ping({ timeoutMs: 30_000 }).then((r) => ({ r, ms: Date.now() - started })),
        waitForVipNexthops(lab.plan, [director(2).link.address]),
      ]);
      const first = podByClient(set.opened);
      const survived = succeeded(pinged.r);
      const samePod = survived.filter((e) => first.get(endpointKey(e.client)) === e.server.pod).length;
      const onD2After = await clientsWithEntries(director(2), clients);
      figures.failover = {
        connections: clients.length,
        viaDirector1Before: viaD1,
        viaDirector2Before: viaD2,
        survived: survived.length,
        survivalPercent: Math.round((survived.length / clients.length) * 10000) / 100,
        samePod,
        entriesOnDirector2After: onD2After,
        failures: failureCounts(pinged.r),
        routeConvergenceMs: routeMs,
        allAnsweredMs: pinged.ms,
      };

      // both directors carried some of the flows (so director1's loss mattered)
      expect(viaD1).toBeGreaterThan(0);
      expect(viaD2).toBeGreaterThan(0);
      expect(viaD1 + viaD2).toBe(clients.length);
      expect(survived.length / clients.length).toBeGreaterThanOrEqual(0.99);
      expect(samePod).toBe(survived.length);
      // every survivor now runs through director2, which took over director1's flows mid-stream
      expect(onD2After).toBeGreaterThanOrEqual(survived.length);
    } finally {
      await set.close();
    }
  });
});
