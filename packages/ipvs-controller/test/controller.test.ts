import { expect, test } from '@jest/globals';
import { ServiceFlags, serviceKeyString, type IpvsOperation, type OperationResult } from '@balanced/ipvs';
import { InvalidArgument } from '@balanced/ipvs';
import { applyToModel, Controller, dumpModel, Reconciler, type DesiredService, type IpvsKernel, type ModelService } from '../src/index.js';
import { manualTimers } from '@balanced/testkit';


/** The pure kernel model behind the IpvsKernel seam; counts batches. `refuse`: ops the kernel refuses (EINVAL). */
function modelKernel(refuse: (op: IpvsOperation) => boolean = () => false) {
  let state: ModelService[] = [];
  const batches: IpvsOperation[][] = [];
  let dumps = 0;
  let reads = 0;
  const readKeys: string[] = [];
  let broken = false;
  const down = (): never => {
    throw new Error('netlink socket closed');
  };
  const kernel: IpvsKernel = {
    dump: async () => (broken ? down() : (dumps++, dumpModel(state))),
    read: async (keys) => {
      if (broken) down();
      reads++;
      readKeys.push(...keys.map((k) => serviceKeyString(k)));
      const ids = new Set(keys.map((k) => serviceKeyString(k)));
      return dumpModel(state).filter((s) => ids.has(serviceKeyString(s.service.key)));
    },
    apply: async (ops) => {
      if (broken) down();
      batches.push([...ops]);
      return ops.map((op): OperationResult => {
        if (refuse(op)) return { ok: false, error: new InvalidArgument(op.op, 'refused by the test kernel') };
        try {
          state = applyToModel(state, [op]);
          return { ok: true };
        } catch (e) {
          return { ok: false, error: new InvalidArgument(op.op, (e as Error).message) };
        }
      });
    },
  };
  return { kernel, batches, state: () => state, dumps: () => dumps, reads: () => reads, readKeys: () => readKeys, breakKernel: (b: boolean) => void (broken = b) };
}

const serviceOf = (op: IpvsOperation): string => serviceKeyString('key' in op.service ? op.service.key : op.service);

const svc = (n: number): DesiredService => ({
  spec: { key: { protocol: 'tcp', address: '10.96.0.1', port: 80 }, scheduler: 'mh', flags: ServiceFlags.MH_FALLBACK },
  destinations: Array.from({ length: n }, (_, i) => ({ address: `10.244.0.${i + 1}`, port: 80, forwarding: 'tunnel' as const, weight: 1, lastWeight: 1 })),
  drainSeconds: 30,
});

test('a burst of events becomes one pass; ready after the first clean pass', async () => {
  const { timers, advance } = manualTimers();
  const k = modelKernel();
  let desired = [svc(1)];
  const c = new Controller({ reconciler: new Reconciler({ kernel: k.kernel, owns: () => true, defaultDrainSeconds: 30 }), desired: () => desired, resyncMs: 60_000, timers });
  c.start();
  expect(c.ready).toBe(false);
  await advance(0);
  expect(c.ready).toBe(true);
  expect(k.batches).toHaveLength(1);
  for (let n = 2; n <= 10; n++) {
    desired = [svc(n)];
    c.markDirty();
    await advance(10);
  }
  await advance(100);
  // nine events 10 ms apart, debounce 50 ms: at most one pass per quiet period (not nine)
  expect(k.batches.length).toBeLessThanOrEqual(3);
  expect(k.state()[0]?.destinations).toHaveLength(10);
  await c.stop();
});

test('a steady stream of events does not postpone passes forever (the debounce counts from the first)', async () => {
  const { timers, advance } = manualTimers();
  const k = modelKernel();
  let desired = [svc(1)];
  const c = new Controller({ reconciler: new Reconciler({ kernel: k.kernel, owns: () => true, defaultDrainSeconds: 30 }), desired: () => desired, resyncMs: 60_000, debounceMs: 50, timers, onError: (e) => errors.push(e.message), onPass: () => passes++ });
  const errors: string[] = [];
  let passes = 0;
  c.start();
  await advance(0);
  for (let n = 0; n < 100; n++) {
    desired = [svc(1 + (n % 7))];
    c.markDirty();
    await advance(10); // an event every 10 ms for a second
  }
  expect({ errors, atLeastTenPasses: passes >= 10 }).toEqual({ errors: [], atLeastTenPasses: true });
  await c.stop();
});

test('a pass that cannot program is retried with backoff and a full re-read; readiness turns false and back; the resync repairs drift', async () => {
  const { timers, advance, now } = manualTimers();
  const k = modelKernel();
  const c = new Controller({ reconciler: new Reconciler({ kernel: k.kernel, owns: () => true, defaultDrainSeconds: 30 }), desired: () => desired, resyncMs: 60_000, backoffMs: { min: 100, max: 1000 }, timers, now });
  let desired = [svc(1)];
  c.start();
  await advance(0);
  expect(c.ready).toBe(true);
  k.breakKernel(true); // e.g. IPVS gone, netlink socket broken: nothing can be read or written
  desired = [svc(2)];
  c.markDirty();
  await advance(50); // fails once: still ready (one blip is not an outage)
  expect(c.ready).toBe(true);
  await advance(100 + 200); // two more failures in a row: unready, with the reason
  expect(c.readiness()).toEqual({ ok: false, detail: expect.stringContaining('passes in a row could not program IPVS') });
  const dumpsWhileBroken = k.dumps();
  k.breakKernel(false);
  await advance(400); // the next retry re-reads the whole table and applies
  expect(k.dumps()).toBe(dumpsWhileBroken + 1);
  expect(c.ready).toBe(true);
  expect(k.state()[0]?.destinations).toHaveLength(2);
  const before = k.batches.length;
  await advance(60_100); // resync with nothing to do: no batch
  expect(k.batches).toHaveLength(before);
  await c.stop();
});

test('one service the kernel keeps refusing waits out its own backoff: other services change at event latency, with no full re-read per failure', async () => {
  const { timers, advance, now } = manualTimers();
  const BAD = '10.96.0.9';
  const k = modelKernel((op) => serviceOf(op).includes(BAD));
  const bad: DesiredService = { ...svc(2), spec: { ...svc(2).spec, key: { protocol: 'tcp', address: BAD, port: 80 } } };
  let good = svc(1);
  const c = new Controller({ reconciler: new Reconciler({ kernel: k.kernel, owns: () => true, defaultDrainSeconds: 30 }), desired: () => [bad, good], resyncMs: 600_000, debounceMs: 50, backoffMs: { min: 200, max: 30_000 }, timers, now });
  c.start();
  await advance(0);
  expect(k.state().map((s) => serviceKeyString(s.service.key))).toEqual(['tcp/10.96.0.1:80']);
  expect(c.ready).toBe(true); // one refused service does not make the director unready ...
  expect(c.failingServices).toBe(1); // ... it is counted and retried on its own
  // Ten changes to the healthy service over 20 s: each lands within one debounce, while the
  // refused one is retried at 200 ms, 400 ms, 800 ms, ... (not in every pass).
  for (let n = 2; n <= 11; n++) {
    await advance(2000 - 60);
    good = svc(n);
    c.markDirty();
    await advance(60);
    expect(k.state().find((s) => serviceKeyString(s.service.key).includes('10.96.0.1:'))?.destinations).toHaveLength(n);
  }
  const badTries = k.batches.filter((b) => b.some((o) => serviceOf(o).includes(BAD))).length;
  expect(badTries).toBeGreaterThanOrEqual(5); // 0, 0.2, 0.6, 1.4, 3, 6.2, 12.6 s
  expect(badTries).toBeLessThanOrEqual(8);
  expect(k.dumps()).toBe(1); // a failing service is re-read alone, never the whole table
  expect(k.readKeys().filter((id) => id.includes(BAD))).toHaveLength(badTries - 1); // each retry re-reads the failing service alone
  expect(c.ready).toBe(true);
  await c.stop();
});

test('a refused service recovers once the kernel accepts it, and stops being retried', async () => {
  const { timers, advance, now } = manualTimers();
  let refuse = true;
  const k = modelKernel(() => refuse);
  const c = new Controller({ reconciler: new Reconciler({ kernel: k.kernel, owns: () => true, defaultDrainSeconds: 30 }), desired: () => [svc(3)], resyncMs: 600_000, backoffMs: { min: 100, max: 1000 }, timers, now });
  c.start();
  await advance(0);
  expect(c.failingServices).toBe(1);
  refuse = false;
  await advance(100);
  expect(c.failingServices).toBe(0);
  expect(k.state()[0]?.destinations).toHaveLength(3);
  const batches = k.batches.length;
  await advance(10_000);
  expect(k.batches).toHaveLength(batches);
  await c.stop();
});

test('while a destination drains, the controller looks again without waiting for an event', async () => {
  const { timers, advance } = manualTimers();
  const k = modelKernel();
  let desired = [svc(3)];
  const c = new Controller({ reconciler: new Reconciler({ kernel: k.kernel, owns: () => true, defaultDrainSeconds: 30 }), desired: () => desired, resyncMs: 600_000, drainPollMs: 1000, timers });
  c.start();
  await advance(0);
  desired = [svc(2)];
  c.markDirty();
  await advance(100);
  expect(k.state()[0]?.destinations.map((d) => d.weight)).toEqual([0, 1, 1]); // drained, idle (director order: highest address first)
  await advance(1000);
  expect(k.state()[0]?.destinations).toHaveLength(2); // deleted on the poll, no event needed
  await c.stop();
});

test('event-driven passes plan against the cached view; resyncs read the kernel, deletes the services concerned', async () => {
  const { timers, advance } = manualTimers();
  const k = modelKernel();
  let desired = [svc(3)];
  const c = new Controller({ reconciler: new Reconciler({ kernel: k.kernel, owns: () => true, defaultDrainSeconds: 30 }), desired: () => desired, resyncMs: 60_000, timers });
  c.start();
  await advance(0);
  expect(k.dumps()).toBe(1);
  for (const n of [4, 5, 6]) {
    // weights change in place: no delete, so no read
    desired = [{ ...svc(3), destinations: svc(3).destinations.map((d, i) => (i === 0 ? { ...d, weight: n } : d)) }];
    c.markDirty();
    await advance(100);
  }
  expect(k.batches).toHaveLength(4);
  expect(k.dumps()).toBe(1);
  desired = [svc(2)]; // a leaving destination goes to weight 0 at once, on the cached view ...
  c.markDirty();
  await advance(100);
  expect(k.dumps()).toBe(1);
  expect(k.state()[0]?.destinations.map((d) => d.weight)).toEqual([0, 1, 1]);
  await advance(1000); // ... and is deleted on the drain poll, which re-reads that service only
  expect(k.dumps()).toBe(1);
  expect(k.reads()).toBeGreaterThanOrEqual(1);
  const before = k.dumps();
  await advance(60_000); // resync reads again
  expect(k.dumps()).toBe(before + 1);
  expect(k.state()[0]?.destinations.map((d) => d.address)).toEqual(['10.244.0.2', '10.244.0.1']);
  await c.stop();
});

test('events before start() only mark the state dirty: no pass runs on half-listed caches', async () => {
  const { timers, advance } = manualTimers();
  const k = modelKernel();
  const c = new Controller({ reconciler: new Reconciler({ kernel: k.kernel, owns: () => true, defaultDrainSeconds: 30 }), desired: () => [svc(2)], resyncMs: 60_000, timers });
  c.markDirty();
  c.markDirty();
  await advance(5000);
  expect(k.batches).toHaveLength(0);
  expect(k.dumps()).toBe(0);
  c.start();
  await advance(0);
  expect(k.batches).toHaveLength(1);
  await c.stop();
});
