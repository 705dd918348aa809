// Policy frontends in the resolver's real pinned maps on this kernel (root): the programs
// loaded on a test-made cgroup with a test-made bpffs pin root (nothing attached anywhere
// else, no traffic), the plan of cluster.yaml + policies.yaml on node-a applied by the
// resolver's own planner; then the CLI reads them back: plan finds nothing to do (the redirect's
// skip list and the frontend kinds round-trip through the maps), explain --resolver on the live
// maps walks redirect before Service as it does on the planned ones, status shows the kinds.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { ResolverMaps, ResolverPrograms, planMaps } from '@balanced/cgroup-resolver';
import { createTestCgroup, createTestPinRoot, removeTestCgroup, removeTestPinRoot } from '@balanced/testkit';
import { readManifests } from '../src/manifests.js';
import { resolverDesired } from '../src/resolver.js';
import { CLUSTER, POLICIES, json, runBalanced } from './run-cli.js';

let cgroup: string | undefined;
let pinRoot: string | undefined;
let programs: ResolverPrograms | undefined;

beforeAll(async () => {
  cgroup = await createTestCgroup('bdclip');
  pinRoot = await createTestPinRoot('bdclip');
  programs = ResolverPrograms.attach({ pinRoot, cgroupPath: cgroup });
  const { objects } = await readManifests([CLUSTER, POLICIES]);
  const maps = ResolverMaps.open(pinRoot);
  try {
    const report = maps.apply(planMaps(resolverDesired(objects, 'node-a'), maps.dump()));
    expect(report.failed).toEqual([]);
  } finally {
    maps.close();
  }
}, 60_000);

afterAll(async () => {
  programs?.close();
  if (pinRoot !== undefined) {
    ResolverPrograms.detach(pinRoot);
    await removeTestPinRoot(pinRoot);
  }
  if (cgroup !== undefined) await removeTestCgroup(cgroup);
});

interface Answer {
  maps: string;
  result: string;
  frontends: { kind: string; outcome: string; skipCgroups: number; backends: { backend: string; local: boolean; slots: number }[] }[];
}

describe('policy frontends in live resolver maps', () => {
  it('plan finds nothing to do for the state the maps hold: kinds and skip lists round-trip', async () => {
    const r = await runBalanced(['plan', '--component', 'resolver', '--pin-root', pinRoot ?? '', '-f', CLUSTER, '-f', POLICIES, '--node', 'node-a', '--json']);
    expect(r.code).toBe(0);
    expect(json<{ resolver: { maps: string; ops: unknown[]; frontendKinds: unknown } }>(r).resolver).toMatchObject({ maps: 'live', ops: [], frontendKinds: { redirect: 2, balancing: 3, service: 5 } });
  }, 60_000);

  it('explain --resolver on the live maps: redirect first, then the Service, as on the planned maps', async () => {
    const args = ['explain', '--resolver', '--protocol', 'udp', '10.96.0.53:53', '--json'];
    const [live, planned] = await Promise.all([runBalanced([...args, '--pin-root', pinRoot ?? '']), runBalanced([...args, '-f', CLUSTER, '-f', POLICIES, '--empty', '--node', 'node-a'])]);
    expect([live.code, planned.code]).toEqual([0, 0]);
    const rows = (a: Answer): unknown[] => a.frontends.map((f) => [f.kind, f.outcome, f.skipCgroups, f.backends.map((b) => [b.backend, b.local, b.slots])]);
    const a = json<Answer>(live);
    expect(a).toMatchObject({ maps: 'live', result: 'resolved' });
    expect(rows(a)).toEqual([
      ['redirect', 'resolves', 1, [['10.244.1.53:53', true, expect.any(Number)]]],
      ['service', 'not reached', 0, [['10.244.2.53:53', false, expect.any(Number)]]],
    ]);
    expect(rows(a)).toEqual(rows(json<Answer>(planned)));
  }, 60_000);

  it('status lists the policy frontends with their kinds', async () => {
    const r = await runBalanced(['status', '--component', 'resolver', '--pin-root', pinRoot ?? '', '--json']);
    expect(r.code).toBe(0);
    const frontends = json<{ resolver: { frontends: { address: string; port: number; protocol: string; kind: string }[] } }>(r).resolver.frontends;
    const kinds = frontends.map((f) => `${f.address}:${f.port}/${f.protocol} ${f.kind}`).sort();
    expect(kinds).toEqual(expect.arrayContaining(['10.96.0.53:53/UDP redirect', '10.96.0.53:53/UDP service', '10.96.0.10:80/TCP balancing', '10.96.50.5:5432/TCP balancing', '10.96.50.6:80/TCP balancing']));
  }, 60_000);
});
