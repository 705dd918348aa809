// The resolver's real pinned maps on this kernel (root): the programs loaded on a test-made
// cgroup with a test-made bpffs pin root (nothing attached anywhere else, no traffic), the
// fixture's desired state applied by the resolver's own planner; then the CLI reads them:
// status names what they hold, plan finds nothing to do (and what a node change would do),
// explain --resolver answers from the live maps as it does from the planned ones.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { ResolverMaps, ResolverPrograms, planMaps } from '@balanced/cgroup-resolver';
import { createTestCgroup, createTestPinRoot, removeTestCgroup, removeTestPinRoot } from '@balanced/testkit';
import { readManifests } from '../src/manifests.js';
import { resolverDesired } from '../src/resolver.js';
import { CLUSTER, json, runBalanced } from './run-cli.js';

let cgroup: string | undefined;
let pinRoot: string | undefined;
let programs: ResolverPrograms | undefined;

beforeAll(async () => {
  cgroup = await createTestCgroup('bdcli');
  pinRoot = await createTestPinRoot('bdcli');
  programs = ResolverPrograms.attach({ pinRoot, cgroupPath: cgroup });
  const { objects } = await readManifests([CLUSTER]);
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

interface StatusJson {
  resolver: {
    services: { id: number; tableSize: number; frontends: { frontend: string; kind: string; kubernetes: string | null }[]; backends: { backend: string; local: boolean; pod: string | null; slots: number }[] }[];
  };
}

describe('the CLI on live resolver maps', () => {
  it('status shows the maps in human form, with Kubernetes names', async () => {
    const [j, text] = await Promise.all([
      runBalanced(['status', '--component', 'resolver', '--pin-root', pinRoot ?? '', '-f', CLUSTER, '--json']),
      runBalanced(['status', '--component', 'resolver', '--pin-root', pinRoot ?? '', '-f', CLUSTER]),
    ]);
    expect(j.code).toBe(0);
    const web = json<StatusJson>(j).resolver.services.find((s) => s.frontends.some((f) => f.frontend === '10.96.0.10:80/TCP'));
    expect(web?.frontends.map((f) => [f.frontend, f.kind, f.kubernetes]).sort()).toEqual([
      ['10.96.0.10:80/TCP', 'service', 'shop/web'],
      ['10.96.200.1:80/TCP', 'service', 'shop/web'],
    ]);
    expect(web?.backends.map((b) => [b.backend, b.local, b.pod]).sort()).toEqual([
      ['10.244.1.11:80', true, 'shop/web-1'],
      ['10.244.1.12:80', true, 'shop/web-2'],
      ['10.244.2.13:80', false, 'shop/web-3'],
    ]);
    expect(web?.backends.reduce((n, b) => n + b.slots, 0)).toBe(web?.tableSize);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/10\.96\.0\.10:80\/TCP service \(shop\/web\)/);
    expect(text.stdout).toMatch(/-> 10\.244\.1\.11:80 local shop\/web-1: \d+ slots/);
  }, 60_000);

  it('plan finds nothing to do for the state the maps hold, and shows what another node would change', async () => {
    const [same, other] = await Promise.all([
      runBalanced(['plan', '--component', 'resolver', '--pin-root', pinRoot ?? '', '-f', CLUSTER, '--node', 'node-a', '--json']),
      runBalanced(['plan', '--component', 'resolver', '--pin-root', pinRoot ?? '', '-f', CLUSTER, '--node', 'node-b', '--json']),
    ]);
    expect(same.code).toBe(0);
    expect(json<{ resolver: { maps: string; ops: unknown[] } }>(same).resolver).toMatchObject({ maps: 'live', ops: [] });
    expect(other.code).toBe(0);
    const ops = json<{ resolver: { ops: { op: string; backend?: { address: string; local: boolean } }[] } }>(other).resolver.ops;
    // On node-b the local flags flip: the backends are rewritten, nothing else is needed.
    expect(ops.map((o) => [o.op, o.backend?.address, o.backend?.local]).sort()).toEqual([
      ['backend-put', '10.244.1.11', false],
      ['backend-put', '10.244.1.12', false],
      ['backend-put', '10.244.2.13', true],
    ]);
  }, 60_000);

  it('explain --resolver answers from the live maps as from the planned ones', async () => {
    const [live, planned] = await Promise.all([
      runBalanced(['explain', '--resolver', '--pin-root', pinRoot ?? '', '10.96.0.10:80', '--json']),
      runBalanced(['explain', '--resolver', '-f', CLUSTER, '--empty', '--node', 'node-a', '10.96.0.10:80', '--json']),
    ]);
    expect(live.code).toBe(0);
    type Answer = { maps: string; result: string; frontends: { backends: { backend: string; local: boolean; slots: number }[] }[] };
    const a = json<Answer>(live);
    const b = json<Answer>(planned);
    expect(a.maps).toBe('live');
    expect(a.result).toBe('resolved');
    const rows = (x: Answer): unknown[] => (x.frontends[0]?.backends ?? []).map((r) => [r.backend, r.local, r.slots]).sort();
    expect(rows(a)).toEqual(rows(b));
  }, 60_000);
});
