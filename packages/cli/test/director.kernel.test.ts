// The CLI against a live IPVS table (lab VM, Debian kernel): the fixture's Services
// programmed into a fresh network namespace by the controller's own plan; then plan finds
// nothing left to do, status shows the table in kernel list order with Kubernetes names, and
// explain answers on the live table as on the planned one (last_weight of the drained pod
// given, since the dump hides it) — and refuses to guess it. Commands run in this process
// (runCli, the binary's code path): spawning node per command is too slow under TCG.
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { IpvsClient } from '@balanced/ipvs';
import { createNetns, deleteNetns } from '@balanced/testkit';
import { directorDesired, directorPlan } from '../src/director.js';
import { readManifests } from '../src/manifests.js';
import { vipOwnership } from '../src/ownership.js';
import { CLUSTER, json } from './run-cli.js';
import { runBalancedHere as runBalanced } from './run-in-process.js';

let netns: string | undefined;
let path = '';

beforeAll(async () => {
  if (!existsSync('/proc/net/ip_vs')) throw new Error('IPVS is not available in this kernel: run with `node packages/testkit/dist/cli/lab.js jest … --selectProjects kernel`');
  netns = await createNetns();
  path = `/run/netns/${netns}`;
  const { objects } = await readManifests([CLUSTER]);
  const own = vipOwnership([], objects);
  const settings = { ownsVip: own.ownsVip, defaultClass: false, drainSeconds: 30 };
  const { ops } = directorPlan(directorDesired(objects, settings).services, [], settings, Date.now());
  const client = await IpvsClient.open({ netns: path });
  try {
    const results = await client.apply(ops);
    expect(results.filter((r) => !r.ok)).toEqual([]);
  } finally {
    client.close();
  }
}, 300_000);

afterAll(async () => {
  if (netns !== undefined) await deleteNetns(netns);
});

type Explain = { table: string; tableSize: number; chosen: { destination: string; slot: number; fallbackProbes: number } | null; probes: { destination: string | null; unavailable: string | null }[] };

describe('the CLI on a live IPVS table', () => {
  it('plan: the live table already matches the cluster state', async () => {
    const r = await runBalanced(['plan', '--component', 'director', '--netns', path, '-f', CLUSTER, '--json']);
    expect(r.code).toBe(0);
    expect(json<{ director: { kernel: string; ops: unknown[] } }>(r).director).toMatchObject({ kernel: 'live', ops: [] });
  }, 300_000);

  it('status: the table in kernel list order, with stats and Kubernetes names', async () => {
    const [j, text] = await Promise.all([
      runBalanced(['status', '--component', 'ipvs', '--netns', path, '-f', CLUSTER, '--json']),
      runBalanced(['status', '--component', 'ipvs', '--netns', path, '-f', CLUSTER]),
    ]);
    expect(j.code).toBe(0);
    type Status = { ipvs: { services: { service: string; kubernetes: string | null; scheduler: string; stats: unknown; destinations: { destination: string; pod: string | null; weight: number; forwarding: string }[] }[] } };
    const services = json<Status>(j).ipvs.services;
    expect(services).toHaveLength(1);
    expect(services[0]).toMatchObject({ service: 'tcp/10.96.200.1:80', kubernetes: 'shop/web', scheduler: 'mh', stats: expect.objectContaining({ connections: 0 }) });
    expect(services[0]?.destinations.map((d) => [d.destination, d.pod, d.weight, d.forwarding])).toEqual([
      ['10.244.1.11:80', 'shop/web-1', 1, 'tunnel'],
      ['10.244.1.12:80', 'shop/web-2', 1, 'tunnel'],
      ['10.244.2.13:80', 'shop/web-3', 1, 'tunnel'],
      ['10.244.2.14:80', 'shop/web-4', 0, 'tunnel'],
    ]);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/tcp\/10\.96\.200\.1:80 +shop\/web +mh/);
  }, 300_000);

  it('explain: the live table gives the planned answer once last_weight is known, and will not guess it', async () => {
    const args = ['explain', '--netns', path, '10.96.200.1:80', '198.51.100.8', '--json'];
    const [guess, live, planned] = await Promise.all([
      runBalanced(args),
      runBalanced([...args, '--last-weight', '10.244.2.14:80=1']),
      runBalanced([...args, '-f', CLUSTER]),
    ]);
    expect(guess.code).toBe(1);
    expect(guess.stderr).toMatch(/10\.244\.2\.14:80: weight 0 in the live table, and the dump does not say its last_weight/);
    expect(live.code).toBe(0);
    const a = json<Explain>(live);
    const b = json<Explain>(planned);
    expect(a.table).toBe('live');
    expect(b.table).toBe('planned');
    expect(a.tableSize).toBe(4093); // this kernel's CONFIG_IP_VS_MH_TAB_INDEX=12
    expect(a.chosen).toEqual(b.chosen);
    expect(a.probes[0]).toEqual({ slot: expect.any(Number), destination: '10.244.2.14:80', unavailable: 'weight 0 (drained)' });
  }, 300_000);
});
