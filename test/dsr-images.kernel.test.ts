import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { parse } from 'yaml';
import {
  IN_VM_ENV,
  eventually,
  ManifestRunError,
  TestApiServer,
  bridgeApiServer,
  clientEndpoints,
  createDsrTopology,
  createNetns,
  createTestCgroup,
  deleteNetns,
  failureCounts,
  findWorkload,
  imageLookup,
  launchPod,
  planDsrLab,
  planPod,
  podShares,
  readDirectorTable,
  removeTestCgroup,
  run,
  runChecked,
  servedCustomResources,
  spawnInCgroupNetns,
  startLabClient,
  startPodServers,
  startRouterBird,
  succeeded,
  waitForVipNexthops,
  type ApiBridge,
  type DsrLabPlan,
  type DsrTopology,
  type PodFacts,
  type PodLaunchPlan,
  type RunningPod,
  type TrafficClient,
} from '@balanced/testkit';
import { capMask, processView } from './support/process-view.js';
import { SYSTEM, deployFixture, deployPodPlan, getAs, podToken } from './support/deploy-pods.js';

// End to end inside the lab VM, every director-tier component run from its image's root
// filesystem (build/rootfs, scripts/images/assemble.sh) exactly as its deploy/ manifest declares
// (command, args, env with the downward API filled in, user, capabilities, volumes, probes),
// against the test API server enforcing the RBAC of deploy/: the vip-allocator gives the
// Service its VIP from a VipPool; on each director (one by default, BALANCED_IMAGES_DIRECTORS=2
// for two) the ipvs-controller (after its privileged init container wrote the IPVS sysctls)
// and the vip-announcer with BIRD (the BGP session to the lab's router); the
// endpoint-controller on the node. A client then
// reaches the VIP through DSR. Overlays a real install would also need: the router each
// director peers with (TOR_IP, per rack) and the lab's VipPool.

const NS = 'shop';
const NODE = 'node-1';
const POOL_RANGE = '10.96.100.10-10.96.100.19';
// One director: under QEMU's emulation each Node component takes 20-60 s of CPU to start, and a
// second director (two more) would double the run; the two-director table and failover are
// test/dsr-controllers' subject. The test runs with any number (DIRECTORS=2 works).
const DIRECTORS = Number(process.env['BALANCED_IMAGES_DIRECTORS'] ?? 1);

const fixture = deployFixture('dsr-images');
const { docs, maybe } = fixture;
let server: TestApiServer;
let topology: DsrTopology | undefined;
let plan: DsrLabPlan;
let client: TrafficClient;
let workDir: string;
let cgroupParent: string | undefined;
let allocatorNetns: string | undefined;
const sandboxes: ChildProcess[] = [];
const bridges: ApiBridge[] = [];
const pods = new Map<string, RunningPod>();
const timings: Record<string, number> = {};

const podUid = (index: number): string => `00000000-0000-4000-8000-${(index + 1).toString(16).padStart(12, '0')}`;

/** The directors' AS and the router's, from the announcer's ConfigMap (one AS for every director). */
function announcerAsns(): { local: number; router: number } {
  const cm = docs.find((d) => d['kind'] === 'ConfigMap' && (d['metadata'] as { name?: string }).name === 'balanced-vip-announcer');
  const config = parse(String((cm?.['data'] as Record<string, unknown>)['vip-announcer.yaml'])) as { localAsn: number; neighbors: { asn: number }[] };
  return { local: config.localAsn, router: config.neighbors[0]!.asn };
}

function service() {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'web', namespace: NS, uid: 'svc-web' },
    spec: {
      type: 'LoadBalancer',
      loadBalancerClass: 'balanced.dev/ipvs',
      ports: [
        { name: 'tcp', protocol: 'TCP', port: plan.port, targetPort: plan.port },
        { name: 'udp', protocol: 'UDP', port: plan.port, targetPort: plan.port },
      ],
    },
  };
}

function slice() {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name: 'web-x1', namespace: NS, labels: { 'kubernetes.io/service-name': 'web' } },
    addressType: 'IPv4',
    ports: [
      { name: 'tcp', protocol: 'TCP', port: plan.port },
      { name: 'udp', protocol: 'UDP', port: plan.port },
    ],
    endpoints: plan.pods.map((p, i) => ({
      addresses: [p.address],
      conditions: { ready: true, serving: true, terminating: false },
      nodeName: NODE,
      targetRef: { kind: 'Pod', namespace: NS, name: p.name, uid: podUid(i) },
    })),
  };
}

async function cgroup2Root(): Promise<string> {
  const mounted = readFileSync('/proc/self/mounts', 'utf8').split('\n').map((l) => l.split(' ')).find((f) => f[2] === 'cgroup2');
  if (mounted?.[1] !== undefined) return mounted[1];
  await runChecked('mount', ['-t', 'cgroup2', 'none', '/sys/fs/cgroup']);
  return '/sys/fs/cgroup';
}

async function tunl0Vips(netns: string): Promise<string[]> {
  const out = await run('ip', ['-n', netns, '-j', 'addr', 'show', 'dev', 'tunl0']);
  const [link] = JSON.parse(out.stdout || '[]') as { addr_info?: { local: string; prefixlen: number }[] }[];
  return (link?.addr_info ?? []).map((a) => `${a.local}/${a.prefixlen}`);
}

/** The plan of `workload` as a pod on a node (hostNetwork pods get the node's address). */
const podPlan = async (workload: string, facts: PodFacts, bridge: ApiBridge, envOverrides?: Record<string, Record<string, string>>): Promise<PodLaunchPlan> =>
  deployPodPlan(fixture, server, workload, facts, bridge, envOverrides === undefined ? {} : { envOverrides });

async function start(key: string, podPlan: PodLaunchPlan, netns: string): Promise<RunningPod> {
  const pod = await launchPod({ plan: podPlan, netns: `/run/netns/${netns}`, workDir, maxGraceMs: 10_000, minProbeTimeoutSeconds: 10, maxProbePeriodMs: 5000 });
  pods.set(key, pod);
  return pod;
}


beforeAll(async () => {
  if (process.env[IN_VM_ENV] !== '1' || !existsSync('/proc/net/ip_vs')) {
    throw new Error('needs the lab VM (IPVS, ipip, dummy): node packages/testkit/dist/cli/lab.js jest test/dsr-images --selectProjects kernel');
  }
  const t0 = Date.now();
  await runChecked('modprobe', ['overlay']); // the containers' root filesystems
  workDir = mkdtempSync(join(tmpdir(), 'dsr-images-'));
  server = await TestApiServer.start({ rbac: true, bookmarkIntervalMs: 500, customResources: servedCustomResources(docs), namespaces: ['default', 'kube-system', NS] });
  const loaded = server.load(docs);
  expect(loaded.loaded).toEqual(expect.arrayContaining(['ServiceAccount/balanced-system/balanced-ipvs-controller', 'ClusterRoleBinding/balanced-vip-allocator', 'ConfigMap/balanced-system/balanced-bird']));
  server.store.put('vippools.balanced.dev', { apiVersion: 'balanced.dev/v1alpha1', kind: 'VipPool', metadata: { name: 'lab' }, spec: { cidrs: [POOL_RANGE], autoAssign: true } });

  // The lab: the directors in the announcer ConfigMap's AS, peering with a router in its neighbour AS.
  const asns = announcerAsns();
  const planned = planDsrLab({ directors: DIRECTORS, pods: 3 });
  expect(planned.router.asn).toBe(asns.router);
  plan = { ...planned, directors: planned.directors.map((d) => ({ ...d, asn: asns.local })) };
  topology = await createDsrTopology(plan);
  allocatorNetns = `${plan.name}-alloc`;
  await createNetns(allocatorNetns);
  const [nodeBridge, allocBridge, ...directorBridges] = await Promise.all(
    [plan.node.netns, allocatorNetns, ...plan.directors.map((d) => d.netns)].map((netns, i) => bridgeApiServer({ netns, index: i + 1, apiUrl: server.url })),
  );
  bridges.push(nodeBridge!, allocBridge!, ...directorBridges);

  timings.labMs = Date.now() - t0;

  // Every pod, from its image tree as its manifest declares.
  const started = Date.now();
  const launches: Promise<RunningPod>[] = [
    podPlan('balanced-vip-allocator', { podName: 'balanced-vip-allocator-0', nodeName: NODE, podIP: allocBridge!.podAddress, hostIP: plan.node.link.address }, allocBridge!).then((p) =>
      start('vip-allocator', p, allocatorNetns!),
    ),
    podPlan('balanced-endpoint-controller', { podName: 'balanced-endpoint-controller-node-1', nodeName: NODE, podIP: plan.node.link.address, hostIP: plan.node.link.address }, nodeBridge!).then((p) =>
      start('endpoint-controller', p, plan.node.netns),
    ),
    ...plan.directors.flatMap((d, i) => {
      const facts = (name: string): PodFacts => ({ podName: `${name}-d${d.index}`, nodeName: `director-${d.index}`, podIP: d.link.address, hostIP: d.link.address });
      return [
        podPlan('balanced-ipvs-controller', facts('balanced-ipvs-controller'), directorBridges[i]!).then((p) => start(`ipvs-controller-d${d.index}`, p, d.netns)),
        // Overlay: the router this director peers with (the DaemonSet's TOR_IP is per rack).
        podPlan('balanced-vip-announcer', facts('balanced-vip-announcer'), directorBridges[i]!, { 'vip-announcer': { TOR_IP: d.routerAddress } }).then((p) =>
          start(`vip-announcer-d${d.index}`, p, d.netns),
        ),
      ];
    }),
  ];
  // While the components start (most of it Node loading under emulation): the router, the
  // client, the objects and the pod sandboxes.
  const clientStarted = startLabClient(topology);
  await startRouterBird(topology);
  server.store.put('services', service());
  plan.pods.forEach((p, i) =>
    server.store.put('pods', {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: p.name, namespace: NS, uid: podUid(i), labels: { app: 'web' } },
      spec: { nodeName: NODE, terminationGracePeriodSeconds: 5, containers: [{ name: 'web', image: 'web' }] },
      status: { phase: 'Running', podIP: p.address, podIPs: [{ ip: p.address }] },
    }),
  );
  server.store.put('endpointslices', slice());
  // Pod sandboxes: a process per pod in its namespace and in a cgroup named pod<uid>, as the
  // kubelet makes them (the endpoint-controller finds them by its /proc scan: no CRI socket here).
  cgroupParent = await createTestCgroup('balanced-images-pods', await cgroup2Root());
  for (const [i, p] of plan.pods.entries()) {
    const cgroup = join(cgroupParent, `pod${podUid(i)}`);
    await mkdir(cgroup);
    const child = spawnInCgroupNetns(cgroup, p.netns, 'sleep', ['1000000']);
    child.on('error', () => undefined);
    sandboxes.push(child);
  }
  const running = await Promise.all(launches);
  client = await clientStarted;
  const readiness = await Promise.allSettled(
    [...pods].map(async ([key, p]) => {
      await p.ready(420_000);
      timings[`${key}ReadyMs`] = Date.now() - started;
    }),
  );
  const notReady = readiness.filter((r): r is PromiseRejectedResult => r.status === 'rejected').map((r) => String((r.reason as Error).message));
  if (notReady.length > 0) {
    const ps = await run('ps', ['-eo', 'pid,ppid,stat,wchan:24,time,args']);
    throw new Error(`${notReady.join('\n\n')}\n--- processes:\n${ps.stdout}`);
  }
  expect(running).toHaveLength(pods.size);
  timings.podsReadyMs = Date.now() - started;

  // The allocator's VIP, then the directors' tables, the pods' tunl0, BGP.
  await eventually('the VIP assigned', async () => server.store.get('services', 'web', NS) as { status?: { loadBalancer?: { ingress?: { ip: string }[] } } }, (s) => (s.status?.loadBalancer?.ingress ?? []).length > 0);
  for (const d of plan.directors) await eventually(`director ${d.index} programmed`, () => readDirectorTable(d), (t) => t.length === 2 && t.every((s) => s.destinations.length === plan.pods.length));
  for (const p of plan.pods) await eventually(`${p.name} tunl0`, () => tunl0Vips(p.netns), (v) => v.includes(`${plan.vip}/32`));
  await startPodServers(topology);
  await waitForVipNexthops(plan, plan.directors.map((d) => d.link.address), { timeoutMs: 120_000 });
  timings.convergedMs = Date.now() - started;
}, 900_000);

afterAll(async () => {
  await Promise.all([...pods.values()].map((p) => p.stop().catch(() => undefined)));
  for (const b of bridges) await b.close().catch(() => undefined);
  for (const s of sandboxes) s.kill('SIGKILL');
  if (cgroupParent !== undefined) await removeTestCgroup(cgroupParent, join(cgroupParent, '..')).catch(() => undefined);
  if (allocatorNetns !== undefined) await deleteNetns(allocatorNetns).catch(() => undefined);
  await topology?.dispose();
  await server?.stop();
  if (workDir !== undefined) rmSync(workDir, { recursive: true, force: true });
  process.stderr.write(`dsr-images: ${JSON.stringify(timings)}\n`);
}, 120_000);

maybe('the director tier from its images, as deploy/ declares it, under RBAC', () => {
  test('the vip-allocator gave the Service an address of the VipPool, the one the lab routes', () => {
    const svc = server.store.get('services', 'web', NS) as { status?: { loadBalancer?: { ingress?: { ip: string }[] } } };
    expect(svc.status?.loadBalancer?.ingress).toEqual([{ ip: plan.vip }]);
  });

  test('every container runs as declared: its image’s command with the manifest’s args, env, user, capabilities, read-only root and /proc/sys', () => {
    const seen: string[] = [];
    for (const [key, pod] of pods) {
      for (const c of pod.containers) {
        const view = processView(c.pid);
        const p = c.plan;
        const at = `${key}/${c.name}`;
        seen.push(at);
        expect({ at, argv: view.argv }).toEqual({ at, argv: p.argv });
        expect({ at, env: view.env }).toEqual({ at, env: p.env.map(([n, v]) => `${n}=${v}`) });
        expect({ at, uid: view.uid, gid: view.gid, groups: view.groups }).toEqual({ at, uid: String(p.uid), gid: String(p.gid), groups: '' });
        // (privileged: no mount of its own on /proc/sys, which is then /proc's, read-write)
        expect({ at, rootReadOnly: view.rootReadOnly, procSysReadOnly: view.procSysReadOnly ?? false }).toEqual({ at, rootReadOnly: p.readOnlyRootFilesystem, procSysReadOnly: !p.privileged });
        expect({ at, noNewPrivs: view.noNewPrivs }).toEqual({ at, noNewPrivs: p.noNewPrivileges ? '1' : '0' });
        if (!p.privileged) {
          expect({ at, bounding: view.capBnd }).toEqual({ at, bounding: capMask(p.capabilities) });
          expect({ at, effective: view.capEff }).toEqual({ at, effective: p.uid === 0 ? capMask(p.capabilities) : 0n });
        }
      }
    }
    const perDirector = plan.directors.flatMap((d) => [`ipvs-controller-d${d.index}/controller`, `vip-announcer-d${d.index}/bird`, `vip-announcer-d${d.index}/vip-announcer`]);
    expect(seen.sort()).toEqual(['endpoint-controller/controller', 'vip-allocator/allocator', ...perDirector].sort());
    // What deploy/ says, spelled out for the ones that matter most.
    const plans = (key: string, name: string) => pods.get(key)!.containers.find((c) => c.name === name)!.plan;
    expect(plans('ipvs-controller-d1', 'controller')).toMatchObject({ uid: 0, capabilities: ['net_admin', 'net_raw'], readOnlyRootFilesystem: true, noNewPrivileges: true });
    expect(plans('vip-allocator', 'allocator')).toMatchObject({ uid: 65532, gid: 65532, capabilities: [], readOnlyRootFilesystem: true });
    expect(plans('vip-announcer-d1', 'bird')).toMatchObject({ uid: 0, capabilities: ['net_bind_service', 'net_admin', 'net_raw'], argv: ['bird', '-f', '-c', '/etc/bird/bird.conf', '-s', '/run/bird/bird.ctl'] });
    expect(plans('vip-announcer-d1', 'vip-announcer').env).toEqual(expect.arrayContaining([['NODE_IP', plan.directors[0]!.link.address], ['TOR_IP', plan.directors[0]!.routerAddress]]));
    expect(plans('endpoint-controller', 'controller')).toMatchObject({ privileged: true });
    expect(plans('endpoint-controller', 'controller').argv).toContain(`--metrics-host=${plan.node.link.address}`);
  });

  test('the ipvs-controller’s privileged init container set the IPVS sysctls in the director’s namespace', async () => {
    for (const d of plan.directors) {
      const values: Record<string, string> = {};
      for (const key of ['conntrack', 'sloppy_tcp', 'schedule_icmp', 'expire_nodest_conn', 'conn_reuse_mode']) {
        values[key] = (await runChecked('nsenter', [`--net=/run/netns/${d.netns}`, 'cat', `/proc/sys/net/ipv4/vs/${key}`])).trim();
      }
      expect(values).toEqual({ conntrack: '0', sloppy_tcp: '1', schedule_icmp: '1', expire_nodest_conn: '1', conn_reuse_mode: '2' });
    }
  });

  test('each component holds its own ServiceAccount’s token: granted what its Role grants, refused (403) the rest', async () => {
    const request = (key: string, path: string): Promise<{ status: number; message: string }> => getAs(server, pods.get(key)!, path);
    const cases: [string, string, string, string][] = [
      ['vip-allocator', 'balanced-vip-allocator', '/api/v1/services', '/api/v1/pods'],
      ['ipvs-controller-d1', 'balanced-ipvs-controller', '/apis/discovery.k8s.io/v1/endpointslices', '/api/v1/nodes'],
      ['vip-announcer-d1', 'balanced-vip-announcer', '/apis/balanced.dev/v1alpha1/vippools', '/api/v1/pods'],
      ['endpoint-controller', 'balanced-endpoint-controller', '/api/v1/pods', '/api/v1/nodes'],
    ];
    for (const [key, sa, granted, refused] of cases) {
      expect({ key, status: (await request(key, granted)).status }).toEqual({ key, status: 200 });
      const no = await request(key, refused);
      expect({ key, status: no.status }).toEqual({ key, status: 403 });
      expect(no.message).toContain(`User "system:serviceaccount:${SYSTEM}:${sa}"`);
    }
    expect(new Set(cases.map(([key]) => podToken(pods.get(key)!))).size).toBe(cases.length);
  });

  test('TCP and UDP through the VIP: all succeed, answered from the VIP by every pod (DSR)', async () => {
    const tcp = await client.tcpBurst({ target: { address: plan.vip, port: plan.port }, clients: clientEndpoints(10_000, 200), concurrency: 40 });
    const udp = await client.udp({ target: { address: plan.vip, port: plan.port }, clients: clientEndpoints(11_000, 40) });
    expect(failureCounts(tcp.exchanges)).toEqual({});
    expect(succeeded(tcp.exchanges).filter((e) => e.peer.address !== plan.vip || e.server.remote !== e.client.address)).toEqual([]);
    expect(Object.keys(podShares(tcp.exchanges)).sort()).toEqual(plan.pods.map((p) => p.name).sort());
    expect(failureCounts(udp.exchanges)).toEqual({});
    expect(succeeded(udp.exchanges).filter((e) => e.from.address !== plan.vip)).toEqual([]);
  });

  test('a manifest that cannot run fails: the init container without privileged cannot write /proc/sys', async () => {
    const d = plan.directors[0]!;
    const workload = structuredClone(findWorkload(docs, 'balanced-ipvs-controller'));
    const spec = (workload['spec'] as { template: { spec: { initContainers: { securityContext: Record<string, unknown> }[] } } }).template.spec;
    spec.initContainers[0]!.securityContext = { capabilities: { drop: ['ALL'], add: ['NET_ADMIN'] } };
    const unprivileged = planPod({
      workload,
      objects: docs,
      image: imageLookup(fixture.images),
      facts: { podName: 'unprivileged-init', nodeName: 'director-1', podIP: d.link.address, hostIP: d.link.address },
    });
    const refused = await launchPod({ plan: unprivileged, netns: `/run/netns/${d.netns}`, workDir }).then(
      async (pod) => {
        await pod.stop();
        return 'launched';
      },
      (e: unknown) => e,
    );
    expect(refused).toBeInstanceOf(ManifestRunError);
    expect((refused as Error).message).toMatch(/init container sysctls exited [1-9][0-9]*\n[^]*Read-only file system/);
  });

});
