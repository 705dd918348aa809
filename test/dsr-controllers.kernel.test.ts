import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir, release } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { pino } from 'pino';
import { serviceKeyString } from '@balanced/ipvs';
import { startController, type ControllerConfig, type RunningController } from '@balanced/ipvs-controller';
import { startEndpointController, type RunningEndpointController } from '@balanced/endpoint-controller';
import { announcerConfigFromObject, startAnnouncer, type RunningAnnouncer } from '@balanced/vip-announcer';
import {
  IN_VM_ENV,
  TestApiServer,
  clientEndpoints,
  createDsrLab,
  disconnectDirector,
  endpointKey,
  failureCounts,
  podShares,
  readDirectorTable,
  readVipRoutes,
  runChecked,
  startDirectorBird,
  startPodServers,
  succeeded,
  waitForVipNexthops,
  writeBenchResults,
  type DirectorPlan,
  type DsrLab,
  type Endpoint,
  type TcpExchange,
} from '@balanced/testkit';

// End to end inside the lab VM, everything programmed by the real components from the test
// API server: per director an ipvs-controller (IPVS in the director's namespace) and a
// vip-announcer (BIRD config + reload; it announces the VIP only while that controller is
// ready and the Service has a ready endpoint), and the endpoint-controller for the node's
// pods; the DSR lab of test/dsr-datapath around them (client, BIRD router with ECMP).
// Figures go to bench/results/dsr-controllers.json.

const NS = 'shop';
const NODE = 'node-1';
const VIP_CIDR = '10.96.100.0/24';
const figures: Record<string, unknown> = {};
let server: TestApiServer;
let lab: DsrLab;
let vip: Endpoint;
let kubeconfig: string;
const directors = new Map<number, RunningController>();
let endpoints: RunningEndpointController | undefined;
const announcers = new Map<number, RunningAnnouncer>();
const silent = pino({ level: 'silent' });

const podUid = (name: string): string => `00000000-0000-4000-8000-${name.replace(/[^a-z]/g, '').padStart(12, '0')}`;

function service() {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'web', namespace: NS, uid: 'svc-web', creationTimestamp: '2026-01-01T00:00:00Z' },
    spec: {
      type: 'LoadBalancer',
      loadBalancerClass: 'balanced.dev/ipvs',
      ports: [
        { name: 'tcp', protocol: 'TCP', port: lab.plan.port, targetPort: lab.plan.port },
        { name: 'udp', protocol: 'UDP', port: lab.plan.port, targetPort: lab.plan.port },
      ],
    },
    status: { loadBalancer: { ingress: [{ ip: lab.plan.vip }] } },
  };
}

function pod(name: string, address: string) {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: NS, uid: podUid(name), labels: { app: 'web' } },
    spec: { nodeName: NODE, terminationGracePeriodSeconds: 5, containers: [{ name: 'web', image: 'web' }] },
    status: { phase: 'Running', podIP: address, podIPs: [{ ip: address }] },
  };
}

/**
 * One slice for all pods; `state` per pod name: ready (default), terminating (still serving:
 * draining), gone (terminating and no longer serving), or absent.
 */
function slice(state: Record<string, 'ready' | 'terminating' | 'gone' | 'absent'> = {}) {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name: 'web-x1', namespace: NS, labels: { 'kubernetes.io/service-name': 'web' } },
    addressType: 'IPv4',
    ports: [
      { name: 'tcp', protocol: 'TCP', port: lab.plan.port },
      { name: 'udp', protocol: 'UDP', port: lab.plan.port },
    ],
    endpoints: lab.plan.pods
      .filter((p) => state[p.name] !== 'absent')
      .map((p) => {
        const terminating = state[p.name] === 'terminating' || state[p.name] === 'gone';
        return {
          addresses: [p.address],
          conditions: { ready: !terminating, serving: state[p.name] !== 'gone', terminating },
          nodeName: NODE,
          targetRef: { kind: 'Pod', namespace: NS, name: p.name, uid: podUid(p.name) },
        };
      }),
  };
}

async function eventually<T>(what: string, probe: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 90_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last = await probe();
  while (!ok(last)) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last: ${JSON.stringify(last)}`);
    await sleep(250);
    last = await probe();
  }
  return last;
}

/** Each director's table as text: "tcp/VIP:80 mh flags [dest:port wN ...]", sorted by service. */
async function table(d: DirectorPlan): Promise<string[]> {
  return (await readDirectorTable(d))
    .map((s) => `${serviceKeyString(s.service.key)} ${s.service.scheduler} ${s.service.flags} [${s.destinations.map((x) => `${x.address} ${x.forwarding} w${x.weight}`).join(', ')}]`)
    .sort();
}

async function tunl0(netns: string): Promise<{ up: boolean; mtu: number; vips: string[] }> {
  const [link] = JSON.parse(await runChecked('ip', ['-n', netns, '-j', 'addr', 'show', 'dev', 'tunl0'])) as { flags: string[]; mtu: number; addr_info: { local: string; prefixlen: number }[] }[];
  return { up: link?.flags.includes('UP') ?? false, mtu: link?.mtu ?? 0, vips: (link?.addr_info ?? []).map((a) => `${a.local}/${a.prefixlen}`) };
}

const writes = async (r: RunningController): Promise<number> => {
  const text = await r.metrics.registry.metrics();
  return [...text.matchAll(/^balanced_ipvs_operations_total\{[^}]*\} (\d+)/gm)].reduce((n, m) => n + Number(m[1]), 0);
};

function directorConfig(d: DirectorPlan): ControllerConfig {
  return {
    kubeconfig,
    vipCidrs: [VIP_CIDR],
    vipInterface: d.vipInterface,
    defaultClass: false,
    networking: 'host',
    netns: `/run/netns/${d.netns}`,
    resyncSeconds: 60,
    drainSeconds: 30,
    metricsHost: '127.0.0.1',
    // A fixed port per director, as in a deployment: the announcer probes this /readyz, also
    // after the controller restarts.
    metricsPort: 19740 + d.index,
    sysctls: true,
    notrack: true,
  };
}

const samePodCount = (opened: readonly TcpExchange[], pinged: readonly TcpExchange[]): number => {
  const first = new Map(succeeded(opened).map((e) => [endpointKey(e.client), e.server.pod]));
  return succeeded(pinged).filter((e) => first.get(endpointKey(e.client)) === e.server.pod).length;
};

beforeAll(async () => {
  if (process.env[IN_VM_ENV] !== '1' || !existsSync('/proc/net/ip_vs')) {
    throw new Error('needs the lab VM (IPVS, ipip, dummy): node packages/testkit/dist/cli/lab.js jest test/dsr-controllers --selectProjects kernel');
  }
  server = await TestApiServer.start({ bookmarkIntervalMs: 500 });
  const dir = mkdtempSync(join(tmpdir(), 'dsr-ctl-'));
  kubeconfig = join(dir, 'kubeconfig');
  writeFileSync(kubeconfig, server.kubeconfigYaml());
  lab = await createDsrLab({ steps: { programDirectors: false, announceVip: false, configurePods: false, startServers: false } });
  vip = lab.target;
  server.store.put('services', service());
  for (const p of lab.plan.pods) server.store.put('pods', pod(p.name, p.address));
  server.store.put('endpointslices', slice());

  const started = Date.now();
  for (const d of lab.plan.directors) directors.set(d.index, await startController(directorConfig(d), silent));
  const netnsOf = new Map(lab.plan.pods.map((p) => [podUid(p.name), `/run/netns/${p.netns}`]));
  endpoints = await startEndpointController(
    {
      kubeconfig,
      nodeName: NODE,
      vipCidrs: [VIP_CIDR],
      defaultClass: false,
      criSockets: [],
      procScan: false,
      procRoot: '/proc',
      resyncSeconds: 60,
      metricsHost: '127.0.0.1',
      metricsPort: 0,
      resolver: { name: 'lab', resolve: async (p) => netnsOf.get(p.uid) ?? null },
    },
    silent,
  );
  const want = lab.plan.pods.length;
  for (const d of lab.plan.directors) await eventually(`director ${d.index} programmed`, () => table(d), (t) => t.length === 2 && t.every((s) => s.split(' w1').length - 1 === want));
  for (const p of lab.plan.pods) await eventually(`${p.name} tunl0`, () => tunl0(p.netns), (t) => t.vips.includes(`${lab.plan.vip}/32`));
  figures.controllersConvergedMs = Date.now() - started;

  // vip-announcer on each director, its BIRD including the announcer's file.
  for (const d of lab.plan.directors) {
    const include = join(dir, `announcer-d${d.index}`);
    mkdirSync(include, { recursive: true }); // (a glob include tolerates no file, not a missing folder)
    const bird = await startDirectorBird(lab.topology, d, {
      config: (logFile) => [`router id ${d.link.address};`, `log "${logFile}" all;`, 'protocol device { scan time 5; }', `include "${include}/*.conf";`, ''].join('\n'),
    });
    const config = announcerConfigFromObject({
      localAsn: d.asn,
      cidrs: [VIP_CIDR],
      neighbors: [{ name: 'router', address: d.routerAddress, asn: lab.plan.router.asn, sourceAddress: d.link.address, holdTime: 9, keepaliveTime: 3, connectRetryTime: 1, connectDelayTime: 1 }],
      outputFile: join(include, 'balanced-vips.conf'),
      birdSocket: bird.controlSocket,
      birdConfig: bird.configFile,
    });
    const announcer = await startAnnouncer(
      { config, kubeconfig, defaultClass: false, controllerReadyUrl: `${directors.get(d.index)!.health.url}/readyz`, probeIntervalMs: 200, failureThreshold: 2, watchPools: false, metricsPort: 0, metricsHost: '127.0.0.1' },
      silent,
    );
    announcers.set(d.index, announcer);
  }
  await waitForVipNexthops(lab.plan, lab.plan.directors.map((d) => d.link.address), { timeoutMs: 90_000 });
  figures.announcedViaBothMs = Date.now() - started;
  const servers = await startPodServers(lab.topology);
  expect(servers).toHaveLength(lab.plan.pods.length);
});

afterAll(async () => {
  for (const a of announcers.values()) await a.stop();
  await endpoints?.stop();
  for (const c of directors.values()) await c.stop();
  if (lab !== undefined) {
    await lab.dispose();
    await writeBenchResults('dsr-controllers', {
      bench: 'dsr-controllers',
      when: new Date().toISOString(),
      environment: 'lab VM (QEMU TCG, 2 vCPU, 1 GiB, Debian kernel); times are emulated',
      kernel: release(),
      ...figures,
    });
  }
  await server?.stop();
});

describe('DSR end to end, programmed by ipvs-controller and endpoint-controller', () => {
  test('both directors hold the same table (mh + mh-fallback, IPIP, director order); every pod holds the VIP on tunl0', async () => {
    const [one, two] = await Promise.all(lab.plan.directors.map(table));
    expect(one).toEqual(two);
    // director order: highest address first (packages/ipvs-controller/src/order.ts)
    const ordered = [...lab.plan.pods.map((p) => p.address)].sort((a, b) => Number(b.split('.')[3]) - Number(a.split('.')[3]));
    for (const s of one!) {
      expect(s).toContain(' mh 8 ['); // MH_FALLBACK
      expect(s).toContain(`[${ordered.map((a) => `${a} tunnel w1`).join(', ')}]`);
    }
    for (const p of lab.plan.pods) {
      const t = await tunl0(p.netns);
      const [eth0] = JSON.parse(await runChecked('ip', ['-n', p.netns, '-j', 'link', 'show', 'dev', 'eth0'])) as { mtu: number }[];
      expect(t).toEqual({ up: true, mtu: eth0!.mtu - 20, vips: [`${lab.plan.vip}/32`] });
    }
  });

  test('TCP and UDP through the VIP: all succeed, replies from the VIP, every pod gets a share', async () => {
    const tcp = await lab.client.tcpBurst({ target: vip, clients: clientEndpoints(10_000, 500), concurrency: 50 });
    const udp = await lab.client.udp({ target: vip, clients: clientEndpoints(11_000, 60) });
    figures.tcp = { connections: 500, succeeded: succeeded(tcp.exchanges).length, failures: failureCounts(tcp.exchanges), podShares: podShares(tcp.exchanges), ms: tcp.ms };
    figures.udp = { requests: 60, succeeded: succeeded(udp.exchanges).length, failures: failureCounts(udp.exchanges), podShares: podShares(udp.exchanges) };
    expect(failureCounts(tcp.exchanges)).toEqual({});
    expect(succeeded(tcp.exchanges).filter((e) => e.peer.address !== vip.address || e.server.remote !== e.client.address)).toEqual([]);
    expect(Object.keys(podShares(tcp.exchanges)).sort()).toEqual(lab.plan.pods.map((p) => p.name).sort());
    expect(failureCounts(udp.exchanges)).toEqual({});
    expect(succeeded(udp.exchanges).filter((e) => e.from.address !== vip.address)).toEqual([]);
  });

  test('restarting a director’s controller makes no IPVS write and keeps live connections', async () => {
    const set = await lab.client.openTcp({ target: vip, clients: clientEndpoints(12_000, 90) });
    try {
      expect(failureCounts(set.opened)).toEqual({});
      const d1 = lab.plan.directors[0]!;
      await directors.get(d1.index)!.stop();
      const restarted = await startController(directorConfig(d1), silent);
      directors.set(d1.index, restarted);
      await eventually('restarted controller ready', async () => (await fetch(`${restarted.health.url}/readyz`)).status, (s) => s === 200);
      const pinged = await set.ping();
      const restartWrites = await writes(restarted);
      // the announcer saw the restarted controller ready again: both paths stay announced
      await waitForVipNexthops(lab.plan, lab.plan.directors.map((d) => d.link.address), { timeoutMs: 30_000 });
      figures.controllerRestart = { connections: 90, writes: restartWrites, stillAnswering: succeeded(pinged).length, samePod: samePodCount(set.opened, pinged) };
      expect(restartWrites).toBe(0);
      expect(failureCounts(pinged)).toEqual({});
      expect(samePodCount(set.opened, pinged)).toBe(90);
    } finally {
      await set.close();
    }
  });

  test('scale down through the API: the terminating pod drains (its connections go on), new ones avoid it', async () => {
    const drained = lab.plan.pods[lab.plan.pods.length - 1]!;
    const set = await lab.client.openTcp({ target: vip, clients: clientEndpoints(13_000, 90) });
    try {
      expect(failureCounts(set.opened)).toEqual({});
      const onDrained = succeeded(set.opened).filter((e) => e.server.pod === drained.name).length;
      server.store.put('endpointslices', slice({ [drained.name]: 'terminating' }));
      for (const d of lab.plan.directors) await eventually(`director ${d.index} drains ${drained.name}`, () => table(d), (t) => t.every((s) => s.includes(`${drained.address} tunnel w0`)));
      const pinged = await set.ping();
      const fresh = await lab.client.tcpBurst({ target: vip, clients: clientEndpoints(13_500, 150) });
      figures.scaleDown = {
        drainedPod: drained.name,
        establishedOnDrainedPod: onDrained,
        stillAnswering: succeeded(pinged).length,
        samePod: samePodCount(set.opened, pinged),
        newPodShares: podShares(fresh.exchanges),
        newFailures: failureCounts(fresh.exchanges),
      };
      expect(onDrained).toBeGreaterThan(0);
      expect(failureCounts(pinged)).toEqual({});
      expect(samePodCount(set.opened, pinged)).toBe(90);
      expect(failureCounts(fresh.exchanges)).toEqual({});
      expect(podShares(fresh.exchanges)[drained.name] ?? 0).toBe(0);
      // The VIP stays on the draining pod's tunl0 while it still serves.
      expect((await tunl0(drained.netns)).vips).toEqual([`${lab.plan.vip}/32`]);
    } finally {
      await set.close();
    }
    server.store.put('endpointslices', slice());
    for (const d of lab.plan.directors) await eventually(`director ${d.index} restores ${drained.name}`, () => table(d), (t) => t.every((s) => s.includes(`${drained.address} tunnel w1`)));
  });

  test('the announcer withdraws the VIP when no endpoint serves, announces it while a terminating endpoint still serves, and when ready again', async () => {
    const all = (state: 'terminating' | 'gone') => slice(Object.fromEntries(lab.plan.pods.map((p) => [p.name, state])));
    const everywhere = lab.plan.directors.map((d) => d.link.address);
    const started = Date.now();
    server.store.put('endpointslices', all('gone'));
    await waitForVipNexthops(lab.plan, [], { timeoutMs: 30_000 });
    const withdrawnMs = Date.now() - started;
    // Terminating but serving (draining): the VIP is announced again (its connections need the
    // route); the directors keep those pods at weight 0 (no new connections).
    server.store.put('endpointslices', all('terminating'));
    await waitForVipNexthops(lab.plan, everywhere, { timeoutMs: 30_000 });
    for (const d of lab.plan.directors) await eventually(`director ${d.index} drains every pod`, () => table(d), (t) => t.length === 2 && t.every((s) => s.split(' w0').length - 1 === lab.plan.pods.length));
    const servingMs = Date.now() - started - withdrawnMs;
    server.store.put('endpointslices', slice());
    for (const d of lab.plan.directors) await eventually(`director ${d.index} restores every pod`, () => table(d), (t) => t.length === 2 && t.every((s) => s.split(' w1').length - 1 === lab.plan.pods.length));
    await waitForVipNexthops(lab.plan, everywhere, { timeoutMs: 30_000 });
    figures.noReadyEndpoints = { withdrawnEverywhereMs: withdrawnMs, announcedWhileDrainingMs: servingMs };
    expect(await readVipRoutes(lab.plan)).not.toEqual([]);
  });

  test('failover: director 1 goes away, ≥ 99% of live connections keep working through director 2', async () => {
    const set = await lab.client.openTcp({ target: vip, clients: clientEndpoints(14_000, 200) });
    try {
      expect(failureCounts(set.opened)).toEqual({});
      const started = Date.now();
      await disconnectDirector(lab.plan, lab.plan.directors[0]!.index);
      await waitForVipNexthops(lab.plan, [lab.plan.directors[1]!.link.address]);
      const convergedMs = Date.now() - started;
      const pinged = await set.ping();
      const same = samePodCount(set.opened, pinged);
      figures.failover = { connections: 200, survived: same, survivalPercent: (100 * same) / 200, routeConvergedMs: convergedMs, answeredMs: Date.now() - started, failures: failureCounts(pinged) };
      expect(same / 200).toBeGreaterThanOrEqual(0.99);
    } finally {
      await set.close();
    }
  });
});
