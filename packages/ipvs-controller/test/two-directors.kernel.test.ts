import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { IpvsClient, ServiceFlags, type ServiceKey } from '@balanced/ipvs';
import { explain, type MhService } from '@balanced/maglev';
import { clientAddress, clientKey, createMhLab, type Client, type MhLab } from '@balanced/testkit';
import { ipvsKernel, plan, Reconciler, type DesiredDestination, type DesiredService } from '../src/index.js';

// Inside the lab VM. Two directors (each a namespace with its own IPVS) reach the same final
// desired state through different histories — one incrementally, one from a fresh start —
// and must send every probe client to the same destination: what ECMP across directors needs.
const VIP = '10.200.0.1';
const KEY: ServiceKey = { protocol: 'tcp', address: VIP, port: 80 };
const CLIENTS: Client[] = Array.from({ length: Number(process.env.BALANCED_MH_PROBE_CLIENTS ?? 5000) }, (_, i) => ({ address: clientAddress(i), port: 30000 }));
const weightOf = (n: number): number => 1 + (n % 3);

function state(backends: readonly number[], drained: readonly number[] = []): DesiredService[] {
  const destinations = [...backends]
    .sort((a, b) => a - b)
    .map((n): DesiredDestination => ({ address: `10.50.0.${n}`, port: 80, forwarding: 'tunnel', weight: drained.includes(n) ? 0 : weightOf(n), lastWeight: weightOf(n) }));
  return [{ spec: { key: KEY, scheduler: 'mh', flags: ServiceFlags.MH_FALLBACK }, destinations, drainSeconds: 0 }];
}
const range = (a: number, b: number): number[] => Array.from({ length: b - a + 1 }, (_, i) => a + i);
const FINAL = state([...range(1, 20).filter((n) => n !== 7), 30, 31, 32], [4, 31]);

interface Director {
  lab: MhLab;
  client: IpvsClient;
  reconciler: Reconciler;
}
async function director(): Promise<Director> {
  const lab = await createMhLab();
  await lab.addVip(VIP);
  const client = await IpvsClient.open({ netns: `/run/netns/${lab.director}` });
  const reconciler = new Reconciler({ kernel: ipvsKernel(client), owns: (k) => !('fwmark' in k) && k.address.startsWith('10.200.'), defaultDrainSeconds: 0 });
  return { lab, client, reconciler };
}

let a: Director;
let b: Director;
beforeAll(async () => {
  a = await director();
  b = await director();
});
afterAll(async () => {
  for (const d of [a, b]) {
    d?.client.close();
    await d?.lab.dispose();
  }
});

/** Reconcile until nothing is left to do (drains with drainSeconds 0 finish in two passes). */
async function converge(d: Director, desired: DesiredService[]): Promise<void> {
  for (let i = 0; i < 3; i++) {
    const r = await d.reconciler.reconcile(desired);
    expect(r.failed.map((f) => f.error.message)).toEqual([]);
    if (r.ops.length === 0) return;
  }
}

test('directors with different histories send every probe client to the same destination', async () => {
  // a: an incremental history with scale-ups at the head, middle and tail, drains and removals
  for (const step of [state(range(5, 12)), state(range(1, 14), [9]), state([...range(1, 20), 25], [4]), state([...range(1, 20), 30, 31, 32], [4, 31])]) {
    await converge(a, step);
  }
  await converge(a, FINAL);
  // b: a fresh start straight into the final state
  await converge(b, FINAL);

  const listA = (await a.client.listDestinations(KEY)).map((d) => `${d.address}:${d.weight}`);
  const listB = (await b.client.listDestinations(KEY)).map((d) => `${d.address}:${d.weight}`);
  expect(listA).toEqual(listB);

  const [pa, pb] = [await a.lab.probe(VIP, 80, CLIENTS), await b.lab.probe(VIP, 80, CLIENTS)];
  expect({ missingA: pa.missing.length, missingB: pb.missing.length }).toEqual({ missingA: 0, missingB: 0 });

  const model: MhService = {
    af: 'inet',
    schedulerFlags: { mhPort: false, mhFallback: true },
    destinations: (await b.client.listDestinations(KEY)).map((d) => ({ address: d.address, port: d.port, weight: d.weight, lastWeight: weightOf(Number(d.address.split('.')[3])) })),
  };
  let differ = 0;
  let modelMisses = 0;
  const used = new Set<string>();
  for (const c of CLIENTS) {
    const da = pa.dest.get(clientKey(c));
    const db = pb.dest.get(clientKey(c));
    if (da !== db) differ += 1;
    if (explain(model, c.address, c.port)?.destination.address !== db) modelMisses += 1;
    if (db) used.add(db);
  }
  process.stderr.write(`two directors: ${CLIENTS.length} probe clients, ${differ} on different destinations, model missed ${modelMisses}, ${used.size} destinations used\n`);
  expect({ differ, modelMisses }).toEqual({ differ: 0, modelMisses: 0 });
  // drained destinations got nobody (mh-fallback moved their clients), the others got some
  expect(used.has('10.50.0.4')).toBe(false);
  expect(used.has('10.50.0.31')).toBe(false);
  expect(used.size).toBe(FINAL[0]!.destinations.length - 2);
});

test('a director upgraded from the old (ascending) order converges to the same table, and every live connection entry keeps its destination', async () => {
  const c = await director();
  try {
    // What the previous version left in the kernel: FINAL in ascending order.
    const old = plan(FINAL, [], { owns: () => true, now: 0, drainingSince: new Map(), defaultDrainSeconds: 0 }).ops;
    expect((await c.client.apply(old)).filter((r) => !r.ok)).toEqual([]);
    const ascending = (await c.client.listDestinations(KEY)).map((d) => d.address);
    expect(ascending).toEqual(FINAL[0]!.destinations.map((d) => d.address));
    const live = CLIENTS.slice(0, 1000).map((x) => ({ ...x, port: 31000 }));
    const opened = await c.lab.probe(VIP, 80, live);
    expect(opened.missing).toEqual([]);
    const entries = async () => (await c.lab.connections()).filter((e) => e.vip === VIP && e.clientPort === 31000).map((e) => `${e.client}:${e.clientPort}>${e.dest}`).sort();
    const before = await entries();
    expect(before).toHaveLength(live.length);

    await converge(c, FINAL); // the upgraded reconciler reorders (deletes and re-adds in one batch)

    expect((await c.client.listDestinations(KEY)).map((d) => `${d.address}:${d.weight}`)).toEqual((await b.client.listDestinations(KEY)).map((d) => `${d.address}:${d.weight}`));
    expect(await entries()).toEqual(before); // the kernel revived every deleted destination with its connections
    // new clients are scheduled exactly as on the other directors
    const fresh = CLIENTS.slice(0, 1000).map((x) => ({ ...x, port: 32000 }));
    const [pc, pb] = [await c.lab.probe(VIP, 80, fresh), await b.lab.probe(VIP, 80, fresh)];
    let differ = 0;
    for (const x of fresh) if (pc.dest.get(clientKey(x)) !== pb.dest.get(clientKey(x))) differ += 1;
    expect({ missing: pc.missing.length, differ }).toEqual({ missing: 0, differ: 0 });
  } finally {
    c.client.close();
    await c.lab.dispose();
  }
});
