// planChanges: a pass that plans only the services that changed must bring the maps exactly
// where a whole plan would: resolving as desired, consistent between any two ops, nothing left
// behind, ids unique, and a whole plan of the result empty.
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import type { DesiredFrontend, DesiredService, DesiredState } from '../src/model.js';
import { createTableBuilder, frontendKey, MapsMirror, planChanges, planMaps } from '../src/plan/index.js';
import { desiredArb, EMPTY_DUMP, expectConsistentThroughout, expectPublishOrder, expectResolves } from './plan-helpers.js';

/**
 * The next state: each service kept as the very same object (what the agent's builder hands out
 * for an unchanged Service) unless `fresh` has a new one for its key and `change` says so.
 */
function evolve(prev: DesiredState, fresh: DesiredState, change: readonly boolean[]): DesiredState {
  const services = new Map<string, DesiredService>();
  const keys = [...new Set([...prev.services.keys(), ...fresh.services.keys()])].sort();
  const taken = new Map<string, string>();
  keys.forEach((key, i) => {
    const useFresh = change[i % change.length] === true;
    const s = useFresh ? fresh.services.get(key) : (prev.services.get(key) ?? fresh.services.get(key));
    if (s !== undefined) services.set(key, s);
  });
  const frontends: DesiredFrontend[] = [];
  keys.forEach((key, i) => {
    if (!services.has(key)) return;
    const useFresh = change[i % change.length] === true;
    const source = useFresh || !prev.services.has(key) ? fresh : prev;
    for (const f of source.frontends.filter((x) => x.service === key)) {
      const fk = `${f.address} ${f.port} ${f.protocol} ${f.kind}`;
      if (taken.has(fk)) continue;
      taken.set(fk, key);
      frontends.push(f);
    }
  });
  frontends.sort((a, b) => (frontendKey(a) < frontendKey(b) ? -1 : frontendKey(a) > frontendKey(b) ? 1 : 0));
  const named = new Set(frontends.map((f) => f.service));
  return { services: new Map([...services].filter(([k]) => named.has(k))), frontends, refusals: [] };
}

describe('planChanges', () => {
  it('reaches what a whole plan reaches, pass after pass, planning only what changed', () => {
    let scoped = 0;
    fc.assert(
      fc.property(desiredArb, fc.array(fc.tuple(desiredArb, fc.array(fc.boolean(), { minLength: 1, maxLength: 6 })), { minLength: 1, maxLength: 8 }), (first, steps) => {
        const buildTable = createTableBuilder();
        const initial = planMaps(first, EMPTY_DUMP, { buildTable });
        const mirror = MapsMirror.fromDump(EMPTY_DUMP).apply(initial.ops);
        let last: DesiredState = first;
        let ids = new Map(initial.serviceIds);
        for (const [fresh, change] of steps) {
          const next = evolve(last, fresh, change);
          const before = mirror.toDump();
          const plan = planChanges(last, next, mirror, { buildTable });
          if (plan === undefined) continue; // declined: the agent plans the whole state
          scoped++;
          expectPublishOrder(plan, before);
          expectConsistentThroughout(plan, before);
          mirror.apply(plan.ops);
          const after = mirror.toDump();
          expectResolves(after, next);
          expect(planMaps(next, after, { buildTable }).ops).toEqual([]);
          ids = new Map([...ids].filter(([key]) => next.services.has(key)));
          for (const [key, id] of plan.serviceIds) ids.set(key, id);
          expect(new Set(ids.values()).size).toBe(ids.size); // ids stay unique across the services
          last = next;
        }
      }),
      { numRuns: 400 },
    );
    expect(scoped).toBeGreaterThan(100);
  });

  it('declines when many services changed', () => {
    fc.assert(
      fc.property(desiredArb, desiredArb, (a, b) => {
        const mirror = MapsMirror.fromDump(EMPTY_DUMP).apply(planMaps(a, EMPTY_DUMP).ops);
        const plan = planChanges(a, b, mirror);
        const changed = new Set([...a.services.keys(), ...b.services.keys()].filter((k) => a.services.get(k) !== b.services.get(k)));
        if (changed.size > Math.max(1, 0.25 * Math.max(a.services.size, b.services.size))) expect(plan).toBeUndefined();
      }),
    );
  });
});
