// The agent's passes against maps kept in memory (applyToDump, the model of the pinned maps):
// a full pass planned in chunks then leftovers, and a pass over the changed services only,
// must bring the maps exactly where one whole plan would — every step in publish order and
// consistent between any two ops (from consistent maps), resolving as desired, nothing left
// behind, and a whole plan of the result empty. Each also with maps whose passes hold every
// step's tables and frontends back to the end of the pass (as ResolverMaps.beginPass may).
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { ResolverAgent, type MapsPort } from '../src/agent.js';
import type { DesiredSnapshot } from '../src/desired/index.js';
import type { ApplyReport, MapsPass } from '../src/maps/resolver-maps.js';
import type { DesiredFrontend, DesiredState, MapOp, MapsDump, Plan } from '../src/model.js';
import { applyToDump, planMaps } from '../src/plan/index.js';
import { desiredArb, driftArb, expectConsistentThroughout, expectPublishOrder, expectResolves, publish } from './plan-helpers.js';

/** Maps in memory that check every plan they take. */
class MemoryMaps implements MapsPort {
  dumps = 0;
  constructor(
    public held: MapsDump,
    /** Check each plan is consistent throughout (only from consistent maps: not after drift). */
    public consistent: boolean,
  ) {}
  dump(): MapsDump {
    this.dumps++;
    return this.held;
  }
  apply(plan: Plan): ApplyReport {
    expectPublishOrder(plan, this.held);
    if (this.consistent) expectConsistentThroughout(plan, this.held);
    this.held = applyToDump(this.held, plan);
    return { applied: plan.ops.length, failed: [], skipped: [], writes: plan.ops.length, ms: 0 };
  }
}

/**
 * MemoryMaps whose passes write each plan's backends at once and hold its tables and
 * frontend-puts back until the pass finishes (or a plan deletes): then every held table, then
 * every held frontend, as ResolverMaps.beginPass does when no fd limit is reached. Every write
 * is checked as apply() checks a plan.
 */
class DeferringMemoryMaps extends MemoryMaps {
  passes = 0;
  beginPass(): MapsPass {
    this.passes++;
    const tables: MapOp[] = [];
    const frontends: MapOp[] = [];
    const write = (ops: MapOp[]): void => {
      if (ops.length > 0) this.apply({ ops, removed: [], serviceIds: new Map() });
    };
    const flush = (): void => write([...tables.splice(0), ...frontends.splice(0)]);
    const done = (n: number): ApplyReport => ({ applied: n, failed: [], skipped: [], writes: n, ms: 0 });
    return {
      apply: (plan, finish = false) => {
        write(plan.ops.filter((op) => op.op === 'backend-put'));
        tables.push(...plan.ops.filter((op) => op.op === 'service-put'));
        frontends.push(...plan.ops.filter((op) => op.op === 'frontend-put'));
        const deletes = plan.ops.filter((op) => op.op.endsWith('-delete'));
        if (deletes.length > 0 || finish) flush();
        write(deletes);
        return done(plan.ops.length);
      },
      finish: () => {
        flush();
        return done(0);
      },
      close: () => {
        tables.length = 0;
        frontends.length = 0;
      },
    };
  }
}

const mapsOf = (held: MapsDump, consistent: boolean, defer: boolean): MemoryMaps => (defer ? new DeferringMemoryMaps(held, consistent) : new MemoryMaps(held, consistent));

const frontendsOf = (state: DesiredState, key: string): DesiredFrontend[] => state.frontends.filter((f) => f.service === key);

/** A snapshot as ResolverIndex gives it: changed keys with their frontends at `last`. */
function snapshotOf(state: DesiredState, last?: DesiredState): DesiredSnapshot {
  let changed: Map<string, readonly DesiredFrontend[]> | 'all' = 'all';
  if (last !== undefined) {
    changed = new Map();
    for (const key of new Set([...state.services.keys(), ...last.services.keys()])) {
      const before = frontendsOf(last, key);
      if (JSON.stringify([last.services.get(key), before]) !== JSON.stringify([state.services.get(key), frontendsOf(state, key)])) changed.set(key, before);
    }
  }
  return { state, changed, frontendsOf: (key) => frontendsOf(state, key) };
}

function agentOn(maps: MapsPort, chunkSize: number, next: () => DesiredSnapshot): ResolverAgent {
  return new ResolverAgent({ maps, desired: next, resyncMs: 3_600_000, chunkSize });
}

describe('ResolverAgent passes', () => {
  it('a full pass in chunks, then passes over the changes, reach what one whole plan reaches', async () => {
    await fc.assert(
      fc.asyncProperty(desiredArb, desiredArb, fc.array(desiredArb, { maxLength: 4 }), fc.integer({ min: 1, max: 4 }), fc.boolean(), async (old, first, later, chunkSize, defer) => {
        const maps = mapsOf(publish(old), true, defer);
        let current = snapshotOf(first);
        const agent = agentOn(maps, chunkSize, () => current);
        let reports = await agent.runOnce();
        expect(reports.every((r) => r.fullRead)).toBe(true);
        expect(reports.map((r) => r.plan.ops.length).every((n) => n >= 0)).toBe(true);
        expectResolves(maps.held, first);
        expect(planMaps(first, maps.held).ops).toEqual([]);
        let last = first;
        for (const next of later) {
          current = snapshotOf(next, last);
          reports = await agent.runOnce();
          expect(reports.some((r) => r.fullRead)).toBe(false);
          expectResolves(maps.held, next);
          expect(planMaps(next, maps.held).ops).toEqual([]);
          last = next;
        }
        expect(maps.dumps).toBe(1); // read once; after that the agent's mirror
      }),
      { numRuns: 120 },
    );
  }, 120_000);

  it('a full pass in chunks repairs drifted maps', async () => {
    await fc.assert(
      fc.asyncProperty(
        desiredArb.chain((old) => fc.tuple(driftArb(publish(old)), desiredArb, fc.integer({ min: 1, max: 4 }), fc.boolean())),
        async ([drifted, desired, chunkSize, defer]) => {
          const maps = mapsOf(drifted, false, defer);
          const agent = agentOn(maps, chunkSize, () => snapshotOf(desired));
          await agent.runOnce();
          expectResolves(maps.held, desired);
          expect(planMaps(desired, maps.held).ops).toEqual([]);
        },
      ),
      { numRuns: 150 },
    );
  }, 120_000);

  it('a resync that finds the maps as the agent left them plans only what changed; one that finds drift repairs it', async () => {
    await fc.assert(
      fc.asyncProperty(
        desiredArb,
        desiredArb,
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 0, max: 1_000_000 }),
        fc.boolean(),
        async (first, next, chunkSize, driftSeed, defer) => {
          const maps = mapsOf(publish({ services: new Map(), frontends: [], refusals: [] }), true, defer);
          let current = snapshotOf(first);
          const agent = agentOn(maps, chunkSize, () => current);
          await agent.runOnce();
          // No drift, no change: read, found as left, nothing planned.
          current = snapshotOf(first, first);
          agent.resync();
          let reports = await agent.runOnce();
          expect(reports.map((r) => [r.fullRead, r.plan.ops.length])).toEqual([[true, 0]]);
          expect(maps.dumps).toBe(2);
          // No drift, a change: only the changed services are planned.
          current = snapshotOf(next, first);
          agent.resync();
          reports = await agent.runOnce();
          const changedKeys = current.changed === 'all' ? [] : [...current.changed.keys()];
          expect(reports.flatMap((r) => [...r.plan.serviceIds.keys()]).every((k) => changedKeys.includes(k))).toBe(true);
          expectResolves(maps.held, next);
          expect(planMaps(next, maps.held).ops).toEqual([]);
          // Drift behind the agent's back: the resync's read repairs it.
          const drifted = fc.sample(driftArb(maps.held), { numRuns: 1, seed: driftSeed })[0]!;
          maps.held = drifted;
          maps.consistent = false;
          current = snapshotOf(next, next);
          agent.resync();
          await agent.runOnce();
          expectResolves(maps.held, next);
          expect(planMaps(next, maps.held).ops).toEqual([]);
        },
      ),
      { numRuns: 120 },
    );
  }, 120_000);

  it('plans in steps of chunkSize services (none linked here), then the leftovers', async () => {
    const state = await fc.sample(desiredArb.filter((d) => new Set(d.frontends.map((f) => f.service)).size >= 3), { numRuns: 1, seed: 7 })[0]!;
    const maps = new MemoryMaps(publish({ services: new Map(), frontends: [], refusals: [] }), true);
    const reports = await agentOn(maps, 1, () => snapshotOf(state)).runOnce();
    expect(reports.length).toBe(state.services.size + 1);
    for (const r of reports.slice(0, -1)) expect(r.plan.serviceIds.size).toBeLessThanOrEqual(1);
    expect(reports.map((r) => r.step)).toEqual(reports.map((_, index) => ({ index, of: reports.length })));
  });
});
