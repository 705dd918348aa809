import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { existsSync } from 'node:fs';
import { IpvsClient, ServiceFlags, type ServiceKey } from '@balanced/ipvs';
import { createNetns, deleteNetns, faultScenario, secondsSince } from '@balanced/testkit';
import { Controller, ipvsKernel, Reconciler, type DesiredService, type IpvsKernel, type ReconcileReport } from '../src/index.js';

// Inside the lab VM: one service whose op the real kernel refuses every time (a scheduler
// module that does not exist: ENOENT) while another service keeps changing. The healthy
// changes must land in the very next pass, the refused service must be retried on its own
// backoff, the kernel table must not be re-read per failure, and the director stays ready.
const GOOD: ServiceKey = { protocol: 'tcp', address: '10.96.0.10', port: 80 };
const BAD: ServiceKey = { protocol: 'tcp', address: '10.96.0.9', port: 80 };

const service = (key: ServiceKey, n: number, scheduler = 'mh'): DesiredService => ({
  spec: { key, scheduler, flags: ServiceFlags.MH_FALLBACK },
  destinations: Array.from({ length: n }, (_, i) => ({ address: `10.244.0.${i + 1}`, port: 80, forwarding: 'tunnel' as const, weight: 1, lastWeight: 1 })),
  drainSeconds: 30,
});

let ns: string;
let client: IpvsClient;
beforeAll(async () => {
  if (!existsSync('/proc/net/ip_vs')) throw new Error('no IPVS in this kernel: run through the lab VM');
  ns = await createNetns();
  client = await IpvsClient.open({ netns: `/run/netns/${ns}` });
});
afterAll(async () => {
  client?.close();
  if (ns) await deleteNetns(ns);
});

async function until(what: string, ok: () => boolean | Promise<boolean>): Promise<void> {
  for (let i = 0; i < 600; i++) {
    if (await ok()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`gave up waiting for ${what}`);
}

test('one service the kernel keeps refusing does not hold back the others: each change lands in the next pass, no full re-read per failure', async () => {
  // A row of the fault matrix (bench/results/faults.json, issue 13).
  const saw = 'the director stays ready; /readyz detail and balanced_ipvs_failing_services name the failing service; each healthy change in the next pass';
  const record = await faultScenario('one Service whose op keeps failing while others change', saw);
  let dumps = 0;
  const real = ipvsKernel(client);
  const kernel: IpvsKernel = { dump: () => (dumps++, real.dump()), read: (k) => real.read(k), apply: (ops) => real.apply(ops) };
  const reports: ReconcileReport[] = [];
  let good = service(GOOD, 1);
  let bad = service(BAD, 2, 'nosuch'); // no ip_vs_nosuch module: the kernel answers ENOENT
  const c = new Controller({
    reconciler: new Reconciler({ kernel, owns: () => true, defaultDrainSeconds: 30 }),
    desired: () => [bad, good],
    resyncMs: 600_000,
    debounceMs: 20,
    backoffMs: { min: 200, max: 30_000 },
    onPass: (r) => void reports.push(r),
  });
  c.start();
  await until('first pass', () => reports.length > 0);
  expect(reports[0]!.failed.length).toBeGreaterThan(0);
  // add-service: ENOENT (no such scheduler); its destinations then: ESRCH. Neither is director-level.
  expect([...new Set(reports[0]!.failed.map((f) => f.error.name))].sort()).toEqual(['SchedulerMissing', 'ServiceNotFound']);
  expect([...reports[0]!.failedServices.keys()]).toEqual(['tcp/10.96.0.9:80']);
  expect((await client.listServices()).map((s) => s.key)).toEqual([GOOD]);
  expect(c.ready).toBe(true);
  expect(c.failingServices).toBe(1);

  let slowestChangeMs = 0;
  for (let n = 2; n <= 6; n++) {
    const passesBefore = reports.length;
    good = service(GOOD, n);
    const changed = Date.now();
    c.markDirty();
    await until(`pass after change ${n}`, () => reports.length > passesBefore);
    slowestChangeMs = Math.max(slowestChangeMs, Date.now() - changed);
    // the first pass after the event applied it (no backoff in front of it)
    expect((await client.listDestinations(GOOD)).length).toBe(n);
    expect(reports[passesBefore]!.ops.some((o) => o.op === 'add-destination' && 'address' in o.service && o.service.address === GOOD.address)).toBe(true);
    await new Promise((r) => setTimeout(r, 300));
  }
  const badTries = reports.filter((r) => r.failedServices.size > 0).length;
  expect(badTries).toBeGreaterThanOrEqual(2); // retried ...
  expect(badTries).toBeLessThan(reports.length); // ... but not in every pass
  expect(dumps).toBe(1); // a failure re-reads the failing service alone, never the whole table
  expect(c.ready).toBe(true);
  expect(c.readiness().detail).toContain('1 service(s) failing, retried on their own: tcp/10.96.0.9:80');

  // The fault ends (the scheduler becomes one the kernel has): the service is programmed at its next retry.
  bad = service(BAD, 2);
  const fixed = Date.now();
  await until('the fixed service programmed', async () => (await client.listDestinations(BAD)).length === 2);
  const recoverySeconds = secondsSince(fixed);
  expect((await client.listDestinations(GOOD)).length).toBe(6);
  await until('no service failing', () => c.failingServices === 0);
  await c.stop();
  await record({ recoverySeconds, lostServices: 0, droppedConnections: null, operatorSaw: `${saw} (slowest ${slowestChangeMs} ms under TCG); recovery = the fixed service's next retry on its own backoff` });
});
