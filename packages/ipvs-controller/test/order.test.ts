import { describe, expect, test } from '@jest/globals';
import fc from 'fast-check';
import { ServiceFlags, serviceKeyString, type IpvsOperation, type OperationResult } from '@balanced/ipvs';
import { canonicalCompare } from '@balanced/k8s';
import { applyToModel, dumpModel, inDirectorOrder, plan, Reconciler, type DesiredDestination, type DesiredService, type IpvsKernel, type ModelService } from '../src/index.js';

const KEY = { protocol: 'tcp', address: '10.96.0.1', port: 80 } as const;
const ctx = { owns: () => true, now: 0, drainingSince: new Map<string, number>(), defaultDrainSeconds: 30 };
const address = (n: number): string => `10.244.${n >> 8}.${n & 255}`;
const dest = (n: number): DesiredDestination => ({ address: address(n), port: 80, forwarding: 'tunnel', weight: 1, lastWeight: 1 });
/** As the desired-state builder hands them over: ascending (canonicalCompare). */
const service = (ns: readonly number[]): DesiredService => ({ spec: { key: KEY, scheduler: 'mh', flags: ServiceFlags.MH_FALLBACK }, destinations: ns.map(dest).sort(canonicalCompare), drainSeconds: 30 });

function modelKernel() {
  let state: ModelService[] = [];
  const kernel: IpvsKernel = {
    dump: async () => dumpModel(state),
    read: async (keys) => dumpModel(state).filter((s) => keys.some((k) => serviceKeyString(k) === serviceKeyString(s.service.key))),
    apply: async (ops) => ((state = applyToModel(state, ops)), ops.map((): OperationResult => ({ ok: true }))),
  };
  return { kernel, list: () => state[0]?.destinations.map((d) => d.address) ?? [], set: (s: ModelService[]) => void (state = s) };
}

const arbSet = fc.uniqueArray(fc.integer({ min: 1, max: 4000 }), { minLength: 1, maxLength: 40 });

describe('director order', () => {
  test('is descending by address, a pure function of the set (any input order)', () => {
    fc.assert(
      fc.property(arbSet, (ns) => {
        const shuffled: DesiredService = { ...service(ns), destinations: [...service(ns).destinations].reverse() };
        const expected = [...ns].sort((a, b) => b - a).map(address);
        expect(inDirectorOrder(service(ns)).destinations.map((d) => d.address)).toEqual(expected);
        expect(inDirectorOrder(shuffled).destinations.map((d) => d.address)).toEqual(expected);
      }),
    );
  });

  test('a scale-up by a backend with a higher address costs one op whatever the size (ascending order rebuilt the whole list)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1000 }), (size) => {
        const before = Array.from({ length: size }, (_, i) => i + 1);
        const after = [...before, size + 1];
        const held = applyToModel([], plan([inDirectorOrder(service(before))], [], ctx).ops);
        const ops = plan([inDirectorOrder(service(after))], dumpModel(held), ctx).ops;
        expect(ops.map((o) => o.op)).toEqual(['add-destination']);
        // the old order (ascending, as handed over) for comparison: every destination in front is deleted and re-added
        const oldHeld = applyToModel([], plan([service(before)], [], ctx).ops);
        expect(plan([service(after)], dumpModel(oldHeld), ctx).ops).toHaveLength(2 * size + 1);
      }),
      { numRuns: 30 },
    );
  });

  test('two directors with different event histories hold the same list (the identity the mh table needs)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(arbSet, { maxLength: 5 }), fc.array(arbSet, { maxLength: 5 }), arbSet, async (h1, h2, final) => {
        const run = async (history: number[][]) => {
          const k = modelKernel();
          const r = new Reconciler({ kernel: k.kernel, owns: () => true, defaultDrainSeconds: 0 });
          for (const step of [...history, final]) await r.reconcile([service(step)]);
          await r.reconcile([service(final)]); // drained leftovers go (drain period 0)
          return k.list();
        };
        const a = await run(h1);
        expect(a).toEqual(await run(h2));
        expect(a).toEqual([...final].sort((x, y) => y - x).map(address));
      }),
      { numRuns: 100 },
    );
  });

  test('a director upgraded from the ascending order converges in one pass; every destination it deletes comes back in the same batch', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uniqueArray(fc.integer({ min: 1, max: 4000 }), { minLength: 2, maxLength: 60 }), async (ns) => {
        const k = modelKernel();
        k.set(applyToModel([], plan([service(ns)], [], ctx).ops)); // what the old version left: ascending
        const batches: IpvsOperation[][] = [];
        const kernel: IpvsKernel = { ...k.kernel, apply: (ops) => (batches.push([...ops]), k.kernel.apply(ops)) };
        await new Reconciler({ kernel, owns: () => true, defaultDrainSeconds: 30 }).reconcile([service(ns)]);
        expect(k.list()).toEqual([...ns].sort((a, b) => b - a).map(address));
        expect(batches).toHaveLength(1);
        const ops = batches[0] ?? [];
        const deleted = ops.filter((o) => o.op === 'delete-destination').map((o) => ('destination' in o ? o.destination.address : ''));
        const added = ops.filter((o) => o.op === 'add-destination').map((o) => ('destination' in o ? o.destination.address : ''));
        expect(new Set(added)).toEqual(new Set(deleted)); // (the kernel revives them from its trash, connections included)
        expect(deleted).toHaveLength(ns.length - 1); // one stays in place
        expect(ops.every((o) => o.op === 'delete-destination' || o.op === 'add-destination')).toBe(true);
      }),
      { numRuns: 100 },
    );
  });
});
