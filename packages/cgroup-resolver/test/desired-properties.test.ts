// Properties of buildResolverState over generated (and corrupted) clusters.
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import type { V1EndpointSlice, V1Node, V1Service } from '@kubernetes/client-node';
import { buildResolverState, canonicalIp, type ResolverInput } from '../src/desired/index.js';
import type { DesiredState } from '../src/model.js';
import { frontendKey } from '../src/plan/index.js';
import { junk, shuffled, worldArb } from './desired-world-arbitrary.js';

/** Everything the builder returns, order included (Map order too). */
function canonical(state: DesiredState): unknown {
  return { services: [...state.services.entries()], frontends: state.frontends, refusals: state.refusals };
}

const runs = { numRuns: 300 };

describe('buildResolverState', () => {
  it('never throws, whatever the objects hold', () => {
    fc.assert(
      fc.property(fc.oneof(worldArb(true), worldArb(false)), (world) => {
        buildResolverState(world);
      }),
      runs,
    );
    fc.assert(
      fc.property(fc.array(junk), fc.array(junk), fc.array(junk), junk, (services, endpointSlices, nodes, nodeName) => {
        buildResolverState({ services: services as V1Service[], endpointSlices: endpointSlices as V1EndpointSlice[], nodes: nodes as V1Node[], nodeName: nodeName as string });
      }),
      runs,
    );
    expect(() => buildResolverState(null as unknown as ResolverInput)).not.toThrow();
  });

  it('depends on the set of objects, not their order', () => {
    fc.assert(
      fc.property(
        fc.oneof(worldArb(true), worldArb(false)).chain((w) => fc.tuple(fc.constant(w), shuffled(w))),
        ([world, reordered]) => {
          expect(canonical(buildResolverState(reordered))).toEqual(canonical(buildResolverState(world)));
        },
      ),
      runs,
    );
  });

  it('is consistent: one frontend per key, every frontend names a listed service and every service is used; backends of the frontend family, unique, weight 1', () => {
    fc.assert(
      fc.property(fc.oneof(worldArb(true), worldArb(false)), (world) => {
        const state = buildResolverState(world);
        const keys = state.frontends.map(frontendKey);
        expect(new Set(keys).size).toBe(keys.length);
        const used = new Set(state.frontends.map((f) => f.service));
        expect([...state.services.keys()].sort()).toEqual([...used].sort());
        expect([...state.services.keys()]).toEqual([...state.services.keys()].sort());
        for (const f of state.frontends) {
          const s = state.services.get(f.service);
          expect(s).toBeDefined();
          expect(canonicalIp(f.address)?.text).toBe(f.address);
          const family = canonicalIp(f.address)?.family;
          for (const b of s?.backends ?? []) {
            expect(canonicalIp(b.address)).toEqual({ text: b.address, family });
            expect(b.weight).toBe(1);
          }
        }
        for (const [key, s] of state.services) {
          expect(s.key).toBe(key);
          expect(s.options.refuseWhenEmpty).toBe(true);
          const ids = s.backends.map((b) => `${b.address} ${b.port}`);
          expect(new Set(ids).size).toBe(ids.length);
          if (!s.options.localOnly) continue;
          expect(s.backends.every((b) => b.local)).toBe(true);
        }
      }),
      runs,
    );
  });

  it('sees interesting worlds (the generator is not vacuous)', () => {
    const states = fc.sample(worldArb(false), { numRuns: 300, seed: 1 }).map(buildResolverState);
    const count = (f: (s: DesiredState) => boolean): number => states.filter(f).length;
    const services = (s: DesiredState) => [...s.services.values()];
    expect(count((s) => services(s).some((x) => x.backends.length > 0))).toBeGreaterThan(60);
    expect(count((s) => services(s).some((x) => x.backends.length > 1))).toBeGreaterThan(10);
    expect(count((s) => services(s).some((x) => x.options.localOnly && x.backends.length > 0))).toBeGreaterThan(8);
    expect(count((s) => services(s).some((x) => x.backends.some((b) => b.address.includes(':'))))).toBeGreaterThan(3);
    expect(count((s) => s.refusals.some((r) => r.reason === 'FrontendConflict'))).toBeGreaterThan(15);
    expect(fc.sample(worldArb(true), { numRuns: 300, seed: 1 }).filter((w) => buildResolverState(w).frontends.length > 0).length).toBeGreaterThan(60);
  });
});
