// Properties of planMaps: plans reach the desired state, are minimal, keep publish order and
// keep ids stable. Dumps are fresh, published, drifted or corrupt.
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import type { DesiredState, MapsDump } from '../src/model.js';
import { buildResolverState } from '../src/desired/index.js';
import { applyToDump, frontendKey, planMaps } from '../src/plan/index.js';
import { worldArb } from './desired-world-arbitrary.js';
import { desiredArb, driftArb, EMPTY_DUMP, expectConsistentThroughout, expectPublishOrder, expectResolves, publish, serviceArb, SERVICE_KEYS } from './plan-helpers.js';

const runs = { numRuns: 200 };

/** (desired, dump): the dump published for another desired state, then maybe drifted. */
const scenarioArb: fc.Arbitrary<[DesiredState, MapsDump]> = fc
  .tuple(desiredArb, fc.oneof(desiredArb, fc.constant(undefined)))
  .chain(([desired, before]) => fc.tuple(fc.constant(desired), before === undefined ? fc.constant(EMPTY_DUMP) : driftArb(publish(before))));

/** (desired, its own published maps after drift): the plan must repair exactly the drift. */
const repairArb: fc.Arbitrary<[DesiredState, MapsDump]> = desiredArb.chain((desired) => fc.tuple(fc.constant(desired), driftArb(publish(desired))));

/** The same, from the builder's output over generated clusters. */
const builtScenarioArb: fc.Arbitrary<[DesiredState, MapsDump]> = fc
  .tuple(worldArb(false), worldArb(false))
  .chain(([w1, w0]) => fc.tuple(fc.constant(buildResolverState(w1)), driftArb(publish(buildResolverState(w0)))));

describe('planMaps', () => {
  it('applied to the dump, gives maps that resolve exactly what is desired', () => {
    fc.assert(
      fc.property(fc.oneof(scenarioArb, repairArb, builtScenarioArb), ([desired, dump]) => {
        expectResolves(applyToDump(dump, planMaps(desired, dump)), desired);
      }),
      runs,
    );
  });

  it('is empty against the maps it produced (and keeps the same ids)', () => {
    fc.assert(
      fc.property(fc.oneof(scenarioArb, repairArb, builtScenarioArb), ([desired, dump]) => {
        const plan = planMaps(desired, dump);
        const again = planMaps(desired, applyToDump(dump, plan));
        expect(again.ops).toEqual([]);
        expect(again.removed).toEqual([]);
        expect(again.serviceIds).toEqual(plan.serviceIds);
      }),
      runs,
    );
  });

  it('keeps publish order and never names a backend that is neither in the dump nor put before', () => {
    fc.assert(
      fc.property(fc.oneof(scenarioArb, repairArb, builtScenarioArb), ([desired, dump]) => {
        expectPublishOrder(planMaps(desired, dump), dump);
      }),
      runs,
    );
  });

  it('from consistent maps, leaves them consistent between any two ops', () => {
    fc.assert(
      fc.property(desiredArb, desiredArb, (before, desired) => {
        const dump = publish(before);
        expectConsistentThroughout(planMaps(desired, dump), dump);
      }),
      runs,
    );
  });

  it("a change to one service never changes another service's id or ops", () => {
    fc.assert(
      fc.property(
        desiredArb
          .filter((d) => d.services.size > 0)
          .chain((d) => fc.tuple(fc.constant(d), fc.constantFrom(...d.services.keys())))
          .chain(([d, key]) => fc.tuple(fc.constant(d), fc.constant(key), serviceArb(key))),
        ([d1, key, changed]) => {
          const d2: DesiredState = { ...d1, services: new Map([...d1.services].map(([k, s]) => [k, k === key ? changed : s])) };
          const dump = publish(d1);
          const before = planMaps(d1, dump);
          const plan = planMaps(d2, dump);
          const id = before.serviceIds.get(key);
          for (const [k, v] of before.serviceIds) expect(plan.serviceIds.get(k)).toBe(v);
          const mine = new Set([...d1.services.get(key)!.backends, ...changed.backends].map((b) => `${b.address} ${b.port}`));
          for (const op of plan.ops) {
            if (op.op === 'service-put' || op.op === 'service-delete') expect(op.id).toBe(id);
            if (op.op === 'frontend-put' || op.op === 'frontend-delete') throw new Error(`frontend op ${frontendKey(op.frontend)}`);
            if (op.op === 'backend-put') expect(mine.has(`${op.backend.address} ${op.backend.port}`)).toBe(true);
            if (op.op === 'backend-delete') {
              const b = dump.backends.get(op.id)!;
              expect(mine.has(`${b.address} ${b.port}`)).toBe(true);
            }
          }
          for (const r of plan.removed) expect(r.serviceId).toBe(id);
        },
      ),
      runs,
    );
  });

  it('reports as removed exactly the backends that left a surviving table, and all of a deleted one', () => {
    fc.assert(
      fc.property(fc.oneof(scenarioArb, repairArb, builtScenarioArb), ([desired, dump]) => {
        const plan = planMaps(desired, dump);
        const after = applyToDump(dump, plan);
        const backendsOf = (m: MapsDump, id: number): Set<string> =>
          new Set((m.services.get(id)?.backendIds ?? []).flatMap((b) => (m.backends.has(b) ? [`${m.backends.get(b)!.address} ${m.backends.get(b)!.port}`] : [])));
        const expected: string[] = [];
        for (const id of dump.services.keys()) {
          const now = after.services.has(id) ? backendsOf(after, id) : new Set<string>();
          for (const b of backendsOf(dump, id)) if (!now.has(b)) expected.push(`${id} ${b}`);
        }
        expect(plan.removed.map((r) => `${r.serviceId} ${r.address} ${r.port}`).sort()).toEqual(expected.sort());
      }),
      runs,
    );
  });

  it('recovers every id after a restart with no memory (ids come from the maps alone)', () => {
    fc.assert(
      fc.property(desiredArb, (desired) => {
        const dump = publish(desired);
        const first = planMaps(desired, EMPTY_DUMP);
        expect(planMaps(desired, dump).serviceIds).toEqual(first.serviceIds);
      }),
      runs,
    );
  });
});

it('the scenario generator is not vacuous', () => {
  const samples = fc.sample(scenarioArb, { numRuns: 200, seed: 3 });
  const withOps = samples.filter(([d, dump]) => planMaps(d, dump).ops.some((o) => o.op === 'service-put') && dump.services.size > 0);
  const withRemoved = samples.filter(([d, dump]) => planMaps(d, dump).removed.length > 0);
  expect(withOps.length).toBeGreaterThan(40);
  expect(withRemoved.length).toBeGreaterThan(20);
  expect(SERVICE_KEYS.length).toBeGreaterThan(1);
});
