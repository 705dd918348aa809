// MapsMirror.difference: the resync's check that the maps are as the agent left them, and the
// first difference it logs when they are not ('the pinned maps differ from what this agent
// wrote'). No difference from the dump a mirror was made from; one for every drift the planner
// would repair, and for a table rewritten under another revision (which the planner ignores).
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import type { MapsDump } from '../src/model.js';
import { MapsMirror, planMaps } from '../src/plan/index.js';
import { desiredArb, driftArb, publish } from './plan-helpers.js';

describe('MapsMirror.difference', () => {
  it('finds none in the dump the mirror was made from, and one in every drift the planner repairs', () => {
    fc.assert(
      fc.property(
        desiredArb.chain((desired) => {
          const held = publish(desired);
          return fc.tuple(fc.constant(desired), fc.constant(held), driftArb(held));
        }),
        ([desired, held, drifted]) => {
          const mirror = MapsMirror.fromDump(held);
          expect(mirror.difference(held)).toBeUndefined();
          expect(mirror.matches(held)).toBe(true);
          if (planMaps(desired, drifted).ops.length > 0) {
            expect(mirror.difference(drifted)).toEqual(expect.any(String));
            expect(mirror.matches(drifted)).toBe(false);
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('names the first service whose table differs, with both revisions and slot counts', () => {
    const desired = fc.sample(desiredArb.filter((d) => d.services.size > 0 && d.frontends.length > 0), { numRuns: 1, seed: 5 })[0]!;
    const held = publish(desired);
    const [id, table] = [...held.services][0]!;
    const rewritten: MapsDump = { ...held, services: new Map([...held.services, [id, { ...table, revision: table.revision + 7 }]]) };
    const difference = MapsMirror.fromDump(held).difference(rewritten);
    expect(difference).toContain(`service ${id}: the maps hold revision ${table.revision + 7}`);
    expect(difference).toContain(`the agent's view revision ${table.revision}`);
    expect(difference).toMatch(/\d+ slots \[[\d,]*\]/);
  });

  it('counts what each side holds when the sizes differ', () => {
    const desired = fc.sample(desiredArb.filter((d) => d.services.size > 0 && d.frontends.length > 0), { numRuns: 1, seed: 6 })[0]!;
    const held = publish(desired);
    const fewer: MapsDump = { ...held, frontends: held.frontends.slice(1) };
    expect(MapsMirror.fromDump(held).difference(fewer)).toBe(
      `the maps hold ${held.frontends.length - 1} frontends, ${held.services.size} tables, ${held.backends.size} backends; the agent's view ${held.frontends.length}, ${held.services.size}, ${held.backends.size}`,
    );
  });
});
