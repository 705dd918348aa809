import { expect, test } from '@jest/globals';
import { ServiceFlags, serviceKeyString, type IpvsOperation, type OperationResult } from '@balanced/ipvs';
import { InvalidArgument } from '@balanced/ipvs';
import { applyToModel, Controller, dumpModel, Reconciler, type DesiredService, type IpvsKernel, type ModelService } from '../src/index.js';
import { manualTimers } from '@balanced/testkit';


/** The pure kernel model behind the IpvsKernel seam; counts batches. */
function modelKernel(failFirst = 0) {
  let state: ModelService[] = [];
  const batches: IpvsOperation[][] = [];
  let failures = failFirst;
  let dumps = 0;
  let reads = 0;
  const kernel: IpvsKernel = {
    dump: async () => (dumps++, dumpModel(state)),
    read: async (keys) => {
      reads++;
      const ids = new Set(keys.map((k) => serviceKeyString(k)));
      return dumpModel(state).filter((s) => ids.has(serviceKeyString(s.service.key)));
    },
    apply: async (ops) => {
      batches.push([...ops]);
      if (failures-- > 0) return ops.map((): OperationResult => ({ ok: false, error: new InvalidArgument('x', 'injected') }));
      state = applyToModel(state, ops);
      return ops.map(() => ({ ok: true }));
    },
  };
  return { kernel, batches, state: () => state, dumps: () => dumps, reads: () => reads };
}

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

test('a failed pass is retried with backoff; the periodic resync repairs drift', async () => {
  const { timers, advance } = manualTimers();
  const k = modelKernel(2);
  const c = new Controller({ reconciler: new Reconciler({ kernel: k.kernel, owns: () => true, defaultDrainSeconds: 30 }), desired: () => [svc(2)], resyncMs: 60_000, backoffMs: { min: 100, max: 1000 }, timers });
  c.start();
  await advance(0);
  expect(c.ready).toBe(false);
  await advance(100); // first retry, fails again
  await advance(150);
  expect(c.ready).toBe(false);
  await advance(100); // second retry after 200 ms: succeeds
  expect(c.ready).toBe(true);
  expect(k.state()[0]?.destinations).toHaveLength(2);
  const before = k.batches.length;
  await advance(60_100); // resync with nothing to do: no batch
  expect(k.batches).toHaveLength(before);
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
  expect(k.state()[0]?.destinations.map((d) => d.weight)).toEqual([1, 1, 0]); // drained, idle
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
  expect(k.state()[0]?.destinations.map((d) => d.weight)).toEqual([1, 1, 0]);
  await advance(1000); // ... and is deleted on the drain poll, which re-reads that service only
  expect(k.dumps()).toBe(1);
  expect(k.reads()).toBeGreaterThanOrEqual(1);
  const before = k.dumps();
  await advance(60_000); // resync reads again
  expect(k.dumps()).toBe(before + 1);
  expect(k.state()[0]?.destinations.map((d) => d.address)).toEqual(['10.244.0.1', '10.244.0.2']);
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
