// The director under faults (issue 13's fault matrix), inside the lab VM: the real
// ipvs-controller (startController) reads the test API server as its ServiceAccount under the
// RBAC of deploy/ipvs-controller.yaml and programs real IPVS in the DSR lab's director
// namespace; a client namespace sends TCP through the VIP (the router pins the VIP to this
// director) to pods that answer directly (DSR). Long-lived connections are opened before each
// fault and pinged after it: a connection "kept" still answers, from the same pod.
//
// Rows (bench/results/faults.json): the raw table flushed (NOTRACK rules re-asserted within a
// resync), RBAC forbidden on one kind, a director restart with an invalid annotation on a live
// Service, and the API server down 60 s and back. One lab, one controller, one boot.
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import type { V1Service } from '@kubernetes/client-node';
import { pino } from 'pino';
import { parseAllDocuments } from 'yaml';
import { serviceKeyString } from '@balanced/ipvs';
import { LAST_ACCEPTED_ANNOTATION, LastAcceptedRecorder } from '@balanced/k8s';
import {
  IN_VM_ENV,
  TestApiServer,
  clientEndpoints,
  createDsrLab,
  endpointKey,
  failureCounts,
  faultScenario,
  findRepoRoot,
  pinVipRoute,
  readDirectorTable,
  runChecked,
  secondsSince,
  succeeded,
  type DirectorPlan,
  type DsrLab,
  type Endpoint,
  type LongLivedConnections,
  type TcpExchange,
} from '@balanced/testkit';
import { startController, type ControllerConfig, type RunningController } from '../src/index.js';

const NS = 'shop';
const SA_NS = 'balanced-system';
const SA = 'balanced-ipvs-controller';
const VIP_CIDR = '10.96.100.0/24';
const PROBE_VIP = '10.96.100.20';
const NOTRACK_RULE = `-A BALANCED-NOTRACK -d ${VIP_CIDR} -j CT --notrack`;
/** Short enough to see a re-assertion within a test; the deployed default is 60 s. */
const RESYNC_SECONDS = 5;
/**
 * How long failing informers are tolerated before /readyz turns false. The defaults (30 s for
 * refused credentials, 120 s for anything else) are shortened so both faults show it; the
 * outage itself is not shortened.
 */
const GRACE_MS = { refused: 5_000, other: 20_000 };
const API_DOWN_MS = 60_000;
const CONNECTIONS = 40;

let server: TestApiServer;
let lab: DsrLab;
let director: DirectorPlan;
let vip: Endpoint;
let kubeconfig: string;
let running: RunningController | undefined;
const logs: string[] = [];

type DeployDoc = { kind?: string; metadata?: { name?: string }; rules?: { apiGroups: string[]; resources: string[]; verbs: string[] }[] };
const deployDocs = (): DeployDoc[] => parseAllDocuments(readFileSync(join(findRepoRoot(), 'deploy', 'ipvs-controller.yaml'), 'utf8')).map((d) => d.toJS() as DeployDoc);

/** The deployed ClusterRole, with or without `resource` in it. */
function setAllowed(resource: string, allowed: boolean): void {
  const role = deployDocs().find((d) => d.kind === 'ClusterRole' && d.metadata?.name === SA);
  if (role === undefined) throw new Error(`deploy/ipvs-controller.yaml has no ClusterRole ${SA}`);
  const rules = (role.rules ?? []).map((r) => (allowed ? r : { ...r, resources: r.resources.filter((x) => x !== resource) })).filter((r) => r.resources.length > 0);
  server.store.put('clusterroles', { ...role, rules });
}

function service(name: string, address: string, annotations: Record<string, string> = {}) {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace: NS, uid: `svc-${name}`, annotations, creationTimestamp: '2026-01-01T00:00:00Z' },
    spec: { type: 'LoadBalancer', loadBalancerClass: 'balanced.dev/ipvs', ports: [{ name: 'tcp', protocol: 'TCP', port: lab.plan.port, targetPort: lab.plan.port }] },
    status: { loadBalancer: { ingress: [{ ip: address }] } },
  };
}

function slice(serviceName: string) {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name: `${serviceName}-x1`, namespace: NS, labels: { 'kubernetes.io/service-name': serviceName } },
    addressType: 'IPv4',
    ports: [{ name: 'tcp', protocol: 'TCP', port: lab.plan.port }],
    endpoints: lab.plan.pods.map((p) => ({ addresses: [p.address], conditions: { ready: true, serving: true, terminating: false } })),
  };
}

function config(): ControllerConfig {
  return {
    kubeconfig,
    vipCidrs: [VIP_CIDR],
    vipInterface: director.vipInterface,
    defaultClass: false,
    networking: 'host',
    netns: `/run/netns/${director.netns}`,
    resyncSeconds: RESYNC_SECONDS,
    drainSeconds: 30,
    metricsHost: '127.0.0.1',
    metricsPort: 0,
    sysctls: true,
    notrack: true,
    errorGraceMs: GRACE_MS,
  };
}

async function start(): Promise<RunningController> {
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      logs.push(chunk.toString('utf8').trimEnd());
      done();
    },
  });
  running = await startController(config(), pino({ level: 'info' }, sink));
  return running;
}

async function eventually<T>(what: string, probe: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 90_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last = await probe();
  while (!ok(last)) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last: ${JSON.stringify(last)}\n--- controller log (tail)\n${logs.slice(-15).join('\n')}`);
    await sleep(250);
    last = await probe();
  }
  return last;
}

/** The director's IPVS table as text, one line per service: "tcp/VIP:80 mh [pod w1, …]". */
async function table(): Promise<string[]> {
  return (await readDirectorTable(director)).map((s) => `${serviceKeyString(s.service.key)} ${s.service.scheduler} [${s.destinations.map((d) => `${d.address} w${d.weight}`).join(', ')}]`).sort();
}

async function readyz(): Promise<{ status: number; text: string }> {
  try {
    const res = await fetch(`${running!.health.url}/readyz`);
    return { status: res.status, text: (await res.text()).trim() };
  } catch (e) {
    return { status: 0, text: (e as Error).message };
  }
}

/** Sum of a metric's samples whose line starts with `prefix` (name plus an optional label subset). */
async function metric(prefix: string): Promise<number> {
  const text = await running!.metrics.registry.metrics();
  return text
    .split('\n')
    .filter((l) => l.startsWith(prefix))
    .reduce((n, l) => n + Number(l.split(' ').pop()), 0);
}

const raw = (): Promise<string> => runChecked('ip', ['netns', 'exec', director.netns, 'iptables-save', '-t', 'raw']);

/** Connections that answered from the pod they first reached (a connection kept). */
function kept(opened: readonly TcpExchange[], pinged: readonly TcpExchange[]): number {
  const first = new Map(succeeded(opened).map((e) => [endpointKey(e.client), e.server.pod]));
  return succeeded(pinged).filter((e) => first.get(endpointKey(e.client)) === e.server.pod).length;
}

async function openConnections(first: number): Promise<LongLivedConnections> {
  const set = await lab.client.openTcp({ target: vip, clients: clientEndpoints(first, CONNECTIONS) });
  expect(failureCounts(set.opened)).toEqual({});
  return set;
}

interface Sample {
  readonly at: number;
  readonly ready: number;
  readonly table: readonly string[];
}

/** Samples /readyz and the IPVS table every 500 ms until stopped. */
function sampleDuring(): { stop(): Promise<Sample[]> } {
  const samples: Sample[] = [];
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      const [r, t] = await Promise.all([readyz(), table()]);
      samples.push({ at: Date.now(), ready: r.status, table: t });
      await sleep(500);
    }
  })();
  return {
    async stop() {
      stopped = true;
      await loop;
      return samples;
    },
  };
}

beforeAll(async () => {
  if (process.env[IN_VM_ENV] !== '1' || !existsSync('/proc/net/ip_vs')) {
    throw new Error('needs the lab VM (IPVS, ipip, dummy): node packages/testkit/dist/cli/lab.js jest --selectProjects kernel --runTestsByPath packages/ipvs-controller/test/faults.kernel.test.ts');
  }
  server = await TestApiServer.start({ rbac: true, namespaces: ['default', SA_NS, NS], bookmarkIntervalMs: 500 });
  server.load(deployDocs());
  const dir = mkdtempSync(join(tmpdir(), 'ctl-faults-'));
  kubeconfig = join(dir, 'kubeconfig');
  writeFileSync(kubeconfig, server.serviceAccountKubeconfigYaml(SA_NS, SA));
  // One director, the pods' tunl0 and servers by hand; IPVS by the controller under test.
  lab = await createDsrLab({ directors: 1, steps: { programDirectors: false, announceVip: false } });
  director = lab.plan.directors[0]!;
  vip = lab.target;
  await pinVipRoute(lab.plan, director.index);
  server.store.put('services', service('web', lab.plan.vip, { 'balanced.dev/scheduler': 'mh' }));
  server.store.put('endpointslices', slice('web'));
  // As the leader-elected vip-allocator does on every pass: record the accepted annotations.
  const recorded = await new LastAcceptedRecorder(server.kubeConfig(), { defaultClass: false }).record(server.store.list('services') as V1Service[]);
  expect(recorded.written).toEqual([`${NS}/web`]);
  await start();
  await eventually('the Service programmed', table, (t) => t.length === 1 && t[0]!.split(' w1').length - 1 === lab.plan.pods.length);
  await eventually('ready', readyz, (r) => r.status === 200);
});

afterAll(async () => {
  await running?.stop();
  await lab?.dispose();
  await server?.stop();
});

describe('the director under faults, with traffic through the VIP', () => {
  test('programmed by the controller: TCP through the VIP reaches every pod; NOTRACK in the raw table', async () => {
    const burst = await lab.client.tcpBurst({ target: vip, clients: clientEndpoints(19_000, 60) });
    expect(failureCounts(burst.exchanges)).toEqual({});
    expect(new Set(succeeded(burst.exchanges).map((e) => e.server.pod)).size).toBe(lab.plan.pods.length);
    const rules = await raw();
    expect(rules).toContain(NOTRACK_RULE);
    expect(rules).toContain('-A PREROUTING -j BALANCED-NOTRACK');
  });

  test('raw table flushed by another tool: the NOTRACK rules come back within a resync, counted; traffic keeps flowing', async () => {
    const saw = 'balanced_director_notrack_reasserted_total{family="ipv4"} 1 and a warning (NOTRACK rules were missing or changed in the raw table)';
    const record = await faultScenario('raw table flushed (NOTRACK rules gone)', saw);
    const set = await openConnections(20_000);
    try {
      const before = await table();
      const t0 = Date.now();
      await runChecked('ip', ['netns', 'exec', director.netns, 'iptables', '-t', 'raw', '-F']);
      expect(await raw()).not.toContain(NOTRACK_RULE);
      // Traffic while the rules are gone, and the wait for them, at once.
      let recoverySeconds = 0;
      const [during] = await Promise.all([
        set.ping(),
        eventually('the NOTRACK rules back', raw, (t) => t.includes(NOTRACK_RULE) && t.includes('-A PREROUTING -j BALANCED-NOTRACK'), (RESYNC_SECONDS + 60) * 1000).then(() => {
          recoverySeconds = secondsSince(t0);
        }),
      ]);
      const after = await set.ping();
      const fresh = await lab.client.tcpBurst({ target: vip, clients: clientEndpoints(20_500, 60) });
      expect(await metric('balanced_director_notrack_reasserted_total{family="ipv4"}')).toBe(1);
      expect(logs.filter((l) => l.includes('NOTRACK rules were missing or changed'))).toHaveLength(1);
      expect(await table()).toEqual(before);
      expect(failureCounts(during)).toEqual({});
      expect(failureCounts(after)).toEqual({});
      expect(failureCounts(fresh.exchanges)).toEqual({});
      const dropped = CONNECTIONS - Math.min(kept(set.opened, during), kept(set.opened, after));
      expect(dropped).toBe(0);
      await record({ recoverySeconds, lostServices: 0, droppedConnections: dropped, operatorSaw: `${saw}; the rules back ${recoverySeconds} s after the flush (resync every ${RESYNC_SECONDS} s)` });
    } finally {
      await set.close();
    }
  });

  test('RBAC forbids one kind (EndpointSlices): /readyz turns false after the grace, the error is counted and logged, nothing leaves the kernel', async () => {
    const saw = `/readyz 503 naming endpointslices (HTTP 403) after the ${GRACE_MS.refused / 1000} s grace for refused credentials (default 30 s); balanced_informer_errors_total{kind="endpointslices",code="403"}; a warning log line`;
    const record = await faultScenario('RBAC forbidden on one kind', saw);
    const set = await openConnections(21_000);
    try {
      const before = await table();
      const sampler = sampleDuring();
      setAllowed('endpointslices', false);
      const t0 = Date.now();
      server.cutWatches(); // authorization is per request: the informers must ask again
      const unready = await eventually('/readyz 503 naming endpointslices', readyz, (r) => r.status === 503 && r.text.includes('endpointslices'), 90_000);
      const unreadyAfterS = secondsSince(t0);
      expect(unready.text).toContain('403');
      expect(await metric('balanced_informer_errors_total{kind="endpointslices",code="403"}')).toBeGreaterThan(0);
      expect(logs.some((l) => l.includes('endpointslices') && l.includes('403'))).toBe(true);
      // A full resync pass while forbidden: the cached slices still program the same table.
      await sleep((RESYNC_SECONDS + 1) * 1000);
      setAllowed('endpointslices', true);
      const t1 = Date.now();
      await eventually('/readyz 200 again', readyz, (r) => r.status === 200, 90_000);
      const recoverySeconds = secondsSince(t1);
      const samples = await sampler.stop();
      const pinged = await set.ping();
      const lost = samples.filter((s) => JSON.stringify(s.table) !== JSON.stringify(before));
      expect(lost).toEqual([]);
      expect(failureCounts(pinged)).toEqual({});
      const dropped = CONNECTIONS - kept(set.opened, pinged);
      expect(dropped).toBe(0);
      await record({ recoverySeconds, lostServices: 0, droppedConnections: dropped, operatorSaw: `${saw} (not ready ${unreadyAfterS} s after the role lost the rule); ready again ${recoverySeconds} s after it came back` });
    } finally {
      await set.close();
    }
  });

  test('director restart with an invalid annotation on a live Service: programmed as last accepted, no IPVS write, connections kept, a Warning Event', async () => {
    const saw = 'a Warning Event naming the invalid value; the Service kept as last accepted (last-accepted.balanced.dev/annotations), zero IPVS writes after the restart';
    const record = await faultScenario('director restart with an invalid annotation on a live Service', saw);
    const set = await openConnections(22_000);
    try {
      const before = await table();
      await running!.stop();
      const live = server.store.get('services', 'web', NS) as { metadata: { annotations: Record<string, string> } };
      expect(Object.keys(live.metadata.annotations)).toContain(LAST_ACCEPTED_ANNOTATION);
      server.store.put('services', { ...live, metadata: { ...live.metadata, annotations: { ...live.metadata.annotations, 'balanced.dev/scheduler': 'fastest' } } });
      const t0 = Date.now();
      await start();
      await eventually('ready after the restart', readyz, (r) => r.status === 200);
      const recoverySeconds = secondsSince(t0);
      const events = await eventually(
        'a Warning Event on web',
        async () => server.store.list('events') as { involvedObject?: { name?: string }; type?: string; message?: string }[],
        (e) => e.some((x) => x.involvedObject?.name === 'web' && x.type === 'Warning' && (x.message ?? '').includes('fastest')),
      );
      expect(events.length).toBeGreaterThan(0);
      await sleep((RESYNC_SECONDS + 1) * 1000); // and a full resync after it
      expect(await table()).toEqual(before);
      expect(await metric('balanced_ipvs_operations_total')).toBe(0);
      const pinged = await set.ping();
      expect(failureCounts(pinged)).toEqual({});
      const dropped = CONNECTIONS - kept(set.opened, pinged);
      expect(dropped).toBe(0);
      await record({ recoverySeconds, lostServices: 0, droppedConnections: dropped, operatorSaw: `${saw}; ready ${recoverySeconds} s after the restart` });
    } finally {
      await set.close();
    }
  });

  test('API server down 60 s and back: the IPVS table holds, connections are kept, /readyz turns false after the grace and true again; a change made meanwhile arrives', async () => {
    const saw = `/readyz 503 once the informers had failed for the ${GRACE_MS.other / 1000} s grace (default 120 s), 200 again after; balanced_informer_errors_total (connection refused) and warning log lines`;
    const record = await faultScenario('API server down 60 s and back', saw);
    const set = await openConnections(23_000);
    try {
      const before = await table();
      const errorsBefore = await metric('balanced_informer_errors_total');
      const sampler = sampleDuring();
      const t0 = Date.now();
      const restarting = server.restart({ downtimeMs: API_DOWN_MS });
      await sleep(1000);
      // Made while nobody can watch: it must arrive once the API server is back.
      server.store.put('services', service('probe', PROBE_VIP));
      server.store.put('endpointslices', slice('probe'));
      await restarting;
      const t1 = Date.now();
      await eventually('the change made during the outage', table, (t) => t.some((s) => s.startsWith(`tcp/${PROBE_VIP}:`)), 120_000);
      await eventually('/readyz 200 again', readyz, (r) => r.status === 200, 120_000);
      const recoverySeconds = secondsSince(t1);
      const samples = await sampler.stop();
      const down = samples.filter((s) => s.at >= t0 && s.at < t1);
      const firstUnready = down.find((s) => s.ready !== 200);
      expect(firstUnready).toBeDefined();
      const unreadyAfterS = (firstUnready!.at - t0) / 1000;
      expect(unreadyAfterS * 1000).toBeGreaterThanOrEqual(GRACE_MS.other - 1000);
      expect(down.filter((s) => JSON.stringify(s.table) !== JSON.stringify(before))).toEqual([]);
      expect(await metric('balanced_informer_errors_total')).toBeGreaterThan(errorsBefore);
      const pinged = await set.ping();
      expect(failureCounts(pinged)).toEqual({});
      const dropped = CONNECTIONS - kept(set.opened, pinged);
      expect(dropped).toBe(0);
      await record({
        recoverySeconds,
        lostServices: 0,
        droppedConnections: dropped,
        operatorSaw: `${saw} (not ready ${unreadyAfterS} s into the outage); ready, and the change made during the outage programmed, ${recoverySeconds} s after the API server was back`,
      });
    } finally {
      await set.close();
    }
  });
});
