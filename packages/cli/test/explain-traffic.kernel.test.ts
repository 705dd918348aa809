// `balanced explain` against the kernel's own choices (lab VM): testkit's mh lab (a director
// namespace with a VIP and a client namespace); the Service programmed by the CLI's plan ops
// (the controller's planner), one SYN per probe client through IPVS, and for every client
// the destination the kernel picked must be the one `explain` names from the live table.
// Commands run in this process (runCli, the binary's code path): node per command is too
// slow under TCG.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { IpvsClient } from '@balanced/ipvs';
import { clientAddress, clientKey, createMhLab, type Client, type MhLab } from '@balanced/testkit';
import { directorDesired, directorPlan } from '../src/director.js';
import { readManifests } from '../src/manifests.js';
import { FIXTURES, json } from './run-cli.js';
import { runBalancedHere } from './run-in-process.js';

const LAB = join(FIXTURES, 'mh-lab.yaml');
const VIP = '10.200.0.1';
const CLIENTS: Client[] = Array.from({ length: 120 }, (_, i) => ({ address: clientAddress(i), port: 30000 }));

let lab: MhLab | undefined;
let netns = '';

beforeAll(async () => {
  lab = await createMhLab();
  await lab.addVip(VIP);
  netns = `/run/netns/${lab.director}`;
  const { objects } = await readManifests([LAB]);
  const settings = { ownsVip: (ip: string) => ip.startsWith('10.200.'), defaultClass: false, drainSeconds: 30 };
  const { ops } = directorPlan(directorDesired(objects, settings).services, [], settings, Date.now());
  const client = await IpvsClient.open({ netns });
  try {
    expect((await client.apply(ops)).filter((r) => !r.ok)).toEqual([]);
  } finally {
    client.close();
  }
}, 300_000);

afterAll(async () => {
  await lab?.dispose();
});

describe('explain vs the kernel', () => {
  it('names the destination IPVS picked for every probe client (the drained one for none)', async () => {
    const probe = await (lab as MhLab).probe(VIP, 80, CLIENTS);
    expect(probe.missing).toEqual([]);
    const misses: string[] = [];
    const chosen = new Set<string>();
    for (const c of CLIENTS) {
      const r = await runBalancedHere(['explain', '--netns', netns, '--vip-cidr', '10.200.0.0/24', '-f', LAB, `${VIP}:80`, c.address, '--json']);
      expect(r.code).toBe(0);
      const answer = json<{ chosen: { destination: string } | null }>(r).chosen?.destination.split(':')[0];
      const kernel = probe.dest.get(clientKey(c));
      if (answer !== kernel) misses.push(`${c.address}: explain ${answer}, kernel ${kernel}`);
      if (kernel !== undefined) chosen.add(kernel);
    }
    expect(misses).toEqual([]);
    expect(chosen.has('10.50.0.4')).toBe(false);
    expect(chosen.size).toBe(5);
  }, 600_000);
});
