// The agent's long-lived builder (createResolverStateBuilder) remembers Services it read; it must
// give exactly what a fresh buildResolverState gives, whatever sequence of worlds it sees —
// objects kept by identity from one call to the next, replaced, dropped or reordered.
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { buildResolverState, createResolverStateBuilder, type ResolverInput } from '../src/desired/index.js';
import type { DesiredState } from '../src/model.js';
import { worldArb } from './desired-world-arbitrary.js';

function canonical(state: DesiredState): unknown {
  return { services: [...state.services.entries()], frontends: state.frontends, refusals: state.refusals };
}

/** The next world: some objects of `prev` kept as the very same objects, the rest from `fresh`. */
function mix(prev: ResolverInput, fresh: ResolverInput, keep: readonly boolean[]): ResolverInput {
  let i = 0;
  const pick = <T>(a: readonly T[], b: readonly T[]): T[] => [...a.filter(() => keep[i++ % keep.length] === true), ...b.filter(() => keep[i++ % keep.length] !== true)];
  return {
    services: pick(prev.services, fresh.services),
    endpointSlices: pick(prev.endpointSlices, fresh.endpointSlices),
    nodes: keep[0] === true ? prev.nodes : fresh.nodes,
    ...(prev.nodeName !== undefined ? { nodeName: prev.nodeName } : {}),
  };
}

describe('createResolverStateBuilder', () => {
  it('gives what buildResolverState gives, call after call, whatever it remembers', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.oneof(worldArb(true), worldArb(false)), fc.array(fc.boolean(), { minLength: 1, maxLength: 7 })), { minLength: 1, maxLength: 6 }), (steps) => {
        const build = createResolverStateBuilder();
        let world = steps[0]![0];
        for (const [fresh, keep] of steps) {
          world = mix(world, fresh, keep);
          expect(canonical(build(world))).toEqual(canonical(buildResolverState(world)));
          // the same world again: everything remembered
          expect(canonical(build(world))).toEqual(canonical(buildResolverState(world)));
        }
      }),
      { numRuns: 150 },
    );
  });
});
