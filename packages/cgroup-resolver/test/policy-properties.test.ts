// Properties of buildResolverState with pods and policies in generated (and corrupted) clusters.
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { buildResolverState, canonicalIp, type ResolverInput } from '../src/desired/index.js';
import { MAX_SKIP_CGROUPS } from '../src/maps/layout.js';
import type { DesiredState } from '../src/model.js';
import { frontendKey } from '../src/plan/index.js';
import { junk, shuffled, worldArb } from './desired-world-arbitrary.js';

function canonical(state: DesiredState): unknown {
  return { services: [...state.services.entries()], frontends: state.frontends, refusals: state.refusals };
}

const worlds = fc.oneof(worldArb(true, undefined, { policies: true }), worldArb(false, undefined, { policies: true }));
const runs = { numRuns: 300 };

describe('buildResolverState with policies', () => {
  it('never throws, whatever the pods and policies hold', () => {
    fc.assert(
      fc.property(worlds, (world) => {
        buildResolverState(world);
      }),
      runs,
    );
    fc.assert(
      fc.property(worldArb(false), fc.array(junk), fc.array(junk), fc.array(junk), junk, (world, pods, lrps, bps, podCgroups) => {
        buildResolverState({ ...world, pods: pods as never[], localRedirectPolicies: lrps, balancingPolicies: bps, podCgroups: podCgroups as never });
      }),
      runs,
    );
  });

  it('depends on the set of objects, not their order', () => {
    fc.assert(
      fc.property(
        worlds.chain((w) => fc.tuple(fc.constant(w), shuffled(w))),
        ([world, reordered]: [ResolverInput, ResolverInput]) => {
          expect(canonical(buildResolverState(reordered))).toEqual(canonical(buildResolverState(world)));
        },
      ),
      runs,
    );
  });

  it('is consistent: policy frontends name policy services of their kind; backends of the frontend family; skip lists only on redirect services, sorted, at most the maximum', () => {
    fc.assert(
      fc.property(worlds, (world) => {
        const state = buildResolverState(world);
        const keys = state.frontends.map(frontendKey);
        expect(new Set(keys).size).toBe(keys.length);
        expect([...state.services.keys()].sort()).toEqual([...new Set(state.frontends.map((f) => f.service))].sort());
        for (const f of state.frontends) {
          const s = state.services.get(f.service)!;
          const family = canonicalIp(f.address)?.family;
          for (const b of s.backends) expect(canonicalIp(b.address)?.family).toBe(family);
          expect(f.service.startsWith('policy LocalRedirectPolicy/')).toBe(f.kind === 'redirect');
          expect(f.service.startsWith('policy BalancingPolicy/')).toBe(f.kind === 'balancing');
          if (f.kind === 'redirect') {
            expect(s.options).toEqual({ refuseWhenEmpty: false, localOnly: true });
            expect(s.backends.every((b) => b.local)).toBe(true);
            // A redirect backend is never redirected to itself: every backend pod's cgroup is skipped.
            if (s.backends.length > 0) expect(s.skipCgroups?.length ?? 0).toBeGreaterThan(0);
          } else {
            expect(s.options.refuseWhenEmpty).toBe(true);
            expect(s.skipCgroups).toBeUndefined();
          }
          const skip = s.skipCgroups ?? [];
          expect(skip.length).toBeLessThanOrEqual(MAX_SKIP_CGROUPS);
          expect([...skip].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))).toEqual(skip);
          expect(new Set(skip).size).toBe(skip.length);
        }
      }),
      runs,
    );
  });

  it('sees interesting worlds (the generator is not vacuous)', () => {
    const states = fc.sample(worldArb(false, undefined, { policies: true }), { numRuns: 500, seed: 3 }).map(buildResolverState);
    const count = (f: (s: DesiredState) => boolean): number => states.filter(f).length;
    const policyServices = (s: DesiredState) => [...s.services.values()].filter((x) => x.key.startsWith('policy '));
    expect(count((s) => s.frontends.some((f) => f.kind === 'redirect'))).toBeGreaterThan(40);
    expect(count((s) => s.frontends.some((f) => f.kind === 'balancing'))).toBeGreaterThan(40);
    expect(count((s) => policyServices(s).some((x) => x.key.includes('LocalRedirectPolicy') && x.backends.length > 0))).toBeGreaterThan(8);
    expect(count((s) => policyServices(s).some((x) => x.key.includes('BalancingPolicy') && x.backends.length > 0))).toBeGreaterThan(20);
    expect(count((s) => policyServices(s).some((x) => (x.skipCgroups?.length ?? 0) > 1))).toBeGreaterThan(2);
    for (const reason of ['InvalidPolicy', 'PolicyConflict', 'ServiceNotFound', 'NoPortPairs', 'NoHostPort']) {
      expect({ reason, seen: count((s) => s.refusals.some((r) => r.reason === reason)) > 0 }).toEqual({ reason, seen: true });
    }
  });
});
