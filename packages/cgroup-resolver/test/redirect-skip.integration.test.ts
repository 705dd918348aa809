// DESIGN.md, LocalRedirectPolicy: "a redirect backend connecting to its own frontend is not
// redirected to itself" — a node-local DNS cache forwarding to the kube-dns ClusterIP must
// reach the Service. The real programs on this kernel, on a test-made cgroup with child
// cgroups standing for pods: one frontend address A with a redirect service (→ B, skip list:
// pod X's cgroup) and the Service itself (→ C). Clients run in the child cgroups, then in a
// test-made netns where B and C live (A has no route there: an unresolved connect fails).
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import {
  addLocalAddresses,
  createNetns,
  createTestCgroup,
  createTestPinRoot,
  deleteNetns,
  ensureBpffs,
  removeTestCgroup,
  removeTestPinRoot,
  startIdentityServers,
  startResolverClient,
  type IdentityServers,
  type ResolverClient,
} from '@balanced/testkit';
import { cgroupId, ResolverPrograms } from '../src/loader/resolver-programs.js';
import { ResolverMaps } from '../src/maps/resolver-maps.js';
import type { DesiredFrontend, DesiredService, DesiredState, FrontendKind, Protocol } from '../src/model.js';
import { planMaps } from '../src/plan/index.js';

const FRONTEND = '10.96.0.10';
const BACKEND_PORT = 8080;
const REDIRECT_BACKEND = { name: 'node-local-dns', address: '10.244.5.2' };
const SERVICE_BACKEND = { name: 'kube-dns', address: '10.244.6.3' };

let netns: string | undefined;
let cgroup: string | undefined;
let pinRoot: string | undefined;
let programs: ResolverPrograms | undefined;
let maps: ResolverMaps | undefined;
let servers: IdentityServers | undefined;
/** In <cgroup>/podX/ctr: a container of the redirect backend's pod. */
let self: ResolverClient | undefined;
/** In <cgroup>/podX itself. */
let selfPod: ResolverClient | undefined;
/** In <cgroup>/podY/ctr: any other pod. */
let other: ResolverClient | undefined;
let podX: bigint;

function frontends(kind: FrontendKind, service: string): DesiredFrontend[] {
  return (
    [
      [80, 'TCP'],
      [53, 'UDP'],
    ] as const
  ).map(([port, protocol]: readonly [number, Protocol]) => ({ address: FRONTEND, port, protocol, kind, service }));
}

/** The redirect service (→ B, skipping `skip`) and the Service (→ C) on the same frontends. */
function desired(skip: readonly bigint[]): DesiredState {
  const redirect: DesiredService = {
    key: 'lrp kube-system/node-local-dns',
    backends: [{ address: REDIRECT_BACKEND.address, port: BACKEND_PORT, weight: 1, local: true }],
    options: { refuseWhenEmpty: false, localOnly: true },
    skipCgroups: skip,
  };
  const service: DesiredService = {
    key: 'kube-system/kube-dns',
    backends: [{ address: SERVICE_BACKEND.address, port: BACKEND_PORT, weight: 1, local: false }],
    options: { refuseWhenEmpty: true, localOnly: false },
  };
  return {
    services: new Map([redirect, service].map((s) => [s.key, s])),
    frontends: [...frontends('redirect', redirect.key), ...frontends('service', service.key)],
    refusals: [],
  };
}

function publish(state: DesiredState) {
  const plan = planMaps(state, maps!.dump());
  const report = maps!.apply(plan);
  expect(report.failed).toEqual([]);
  expect(report.skipped).toEqual([]);
  return plan;
}

/** Backend names reached over TCP and over unconnected UDP (sendmsg), and any failure. */
async function reached(client: ResolverClient): Promise<{ tcp: Record<string, number>; udp: Record<string, number>; failures: Record<string, number> }> {
  const tcp = await client.tcp({ address: FRONTEND, port: 80, count: 20, concurrency: 4 });
  const udp = await client.udpUnconnected({ address: FRONTEND, port: 53, count: 5 });
  return { tcp: tcp.counts, udp: udp.counts, failures: { ...tcp.failures, ...udp.failures } };
}

const skippedSelf = (): bigint => maps!.counters().skippedSelf;

beforeAll(async () => {
  await ensureBpffs();
  netns = await createNetns();
  cgroup = await createTestCgroup('bds');
  pinRoot = await createTestPinRoot('bds');
  for (const path of ['podX/ctr', 'podY/ctr']) mkdirSync(join(cgroup, path), { recursive: true });
  podX = cgroupId(join(cgroup, 'podX'));
  programs = ResolverPrograms.attach({ pinRoot, cgroupPath: cgroup });
  maps = ResolverMaps.open(pinRoot);
  await addLocalAddresses(netns, [REDIRECT_BACKEND.address, SERVICE_BACKEND.address]);
  servers = await startIdentityServers({ netns, listeners: [REDIRECT_BACKEND, SERVICE_BACKEND].map((b) => ({ ...b, port: BACKEND_PORT })) });
  self = await startResolverClient({ netns, cgroup: join(cgroup, 'podX', 'ctr') });
  selfPod = await startResolverClient({ netns, cgroup: join(cgroup, 'podX') });
  other = await startResolverClient({ netns, cgroup: join(cgroup, 'podY', 'ctr') });
});

afterAll(async () => {
  await self?.stop();
  await selfPod?.stop();
  await other?.stop();
  await servers?.stop();
  maps?.close();
  programs?.close();
  if (pinRoot !== undefined) {
    ResolverPrograms.detach(pinRoot);
    await removeTestPinRoot(pinRoot);
  }
  if (cgroup !== undefined) await removeTestCgroup(cgroup);
  if (netns !== undefined) await deleteNetns(netns);
});

describe('LocalRedirectPolicy: a redirect backend is never redirected to itself', () => {
  test("a client in the skip-listed pod's cgroup (in a container below it, or in it) reaches the Service; another pod reaches the redirect backend", async () => {
    publish(desired([podX]));
    expect([...maps!.dump().services.values()].map((t) => t.skipCgroups)).toContainEqual([podX]);
    const before = skippedSelf();
    const all = { tcp: { 'kube-dns': 20 }, udp: { 'kube-dns': 5 }, failures: {} };
    expect(await reached(self!)).toEqual(all);
    expect(await reached(selfPod!)).toEqual(all);
    // Every forward resolution of the two skipped clients: 2 × (20 connects + 5 datagrams).
    expect(skippedSelf() - before).toBe(50n);
    expect(await reached(other!)).toEqual({ tcp: { 'node-local-dns': 20 }, udp: { 'node-local-dns': 5 }, failures: {} });
    expect(skippedSelf() - before).toBe(50n);
  });

  test('removing the skip id (a republish of the redirect table alone) sends the pod to the redirect backend too', async () => {
    const plan = publish(desired([]));
    expect(plan.ops.map((o) => o.op)).toEqual(['service-put']);
    expect(await reached(self!)).toEqual({ tcp: { 'node-local-dns': 20 }, udp: { 'node-local-dns': 5 }, failures: {} });
  });
});
