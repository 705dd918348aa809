import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import type { V1EndpointSlice, V1Pod, V1Service } from '@kubernetes/client-node';
import { serviceKeyString } from '@balanced/ipvs';
import { worldArb } from './world-arbitrary.js';
import { buildDesired, buildServiceDesired, canonicalCompare, resolveVipPortConflicts, type DesiredInput, type DesiredState, type Refusal } from '../src/desired-state.js';

const ownsVip = (ip: string): boolean => ip !== '10.96.0.3';

function build(world: Omit<DesiredInput, 'ownsVip'>): DesiredState {
  return buildDesired({ ...world, ownsVip });
}

/** A deterministic shuffle driven by fast-check's seed. */
function shuffle<T>(list: readonly T[], seed: number): T[] {
  const out = [...list];
  let s = seed >>> 0 || 1;
  for (let i = out.length - 1; i > 0; i--) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    const j = (s >>> 0) % (i + 1);
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

function shuffleWorld(world: Omit<DesiredInput, 'ownsVip'>, seed: number): Omit<DesiredInput, 'ownsVip'> {
  return {
    ...world,
    services: shuffle(world.services, seed),
    endpointSlices: shuffle(world.endpointSlices, seed + 1).map((s, i) => ({
      ...s,
      ...(Array.isArray(s.endpoints) ? { endpoints: shuffle(s.endpoints, seed + 2 + i) } : {}),
      ...(Array.isArray(s.ports) ? { ports: shuffle(s.ports, seed + 3 + i) } : {}),
    })),
    pods: shuffle(world.pods ?? [], seed + 4),
  };
}

describe('buildDesired: properties', () => {
  it('the output does not depend on the order of Services, slices, endpoints or pods', () => {
    fc.assert(
      fc.property(worldArb(false), fc.integer(), (world, seed) => {
        expect(build(shuffleWorld(world, seed))).toEqual(build(world));
      }),
      { numRuns: 300 },
    );
  });

  it('every destination list is in canonical order, without repeats; keys are unique and sorted', () => {
    fc.assert(
      fc.property(worldArb(false), (world) => {
        const state = build(world);
        const k = state.services.map((s) => serviceKeyString(s.key));
        expect(k).toEqual([...k].sort());
        expect(new Set(k).size).toBe(k.length);
        for (const s of state.services) {
          for (let i = 1; i < s.destinations.length; i++) {
            expect(canonicalCompare(s.destinations[i - 1]!, s.destinations[i]!)).toBeLessThan(0);
          }
          expect(s.destinations.every((d) => d.port === s.key.port && d.lastWeight === 1 && (d.weight === 0 || d.weight === 1))).toBe(true);
          expect(s.spec.key).toEqual(s.key);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('building twice gives deep-equal results, and does not modify its input', () => {
    fc.assert(
      fc.property(worldArb(false), (world) => {
        const before = structuredClone(world);
        const first = build(world);
        expect(build(world)).toEqual(first);
        expect(world).toEqual(before);
      }),
    );
  });

  it('with no ready endpoint a Service keeps its IPVS services, every destination drained', () => {
    fc.assert(
      fc.property(worldArb(false), (world) => {
        const drained = {
          ...world,
          endpointSlices: world.endpointSlices.map((s) => ({
            ...s,
            endpoints: (s.endpoints ?? []).map((e) => ({ ...e, conditions: { ready: false, serving: true, terminating: true } })),
          })),
        };
        const a = build(world);
        const b = build(drained);
        expect(b.services.map((s) => serviceKeyString(s.key))).toEqual(a.services.map((s) => serviceKeyString(s.key)));
        b.services.forEach((s, i) => {
          expect(s.destinations.map((d) => d.address)).toEqual(a.services[i]!.destinations.map((d) => d.address));
          expect(s.destinations.every((d) => d.weight === 0 && d.lastWeight === 1)).toBe(true);
        });
      }),
      { numRuns: 200 },
    );
  });

  it('is the same as building each Service alone and then settling VIP:port conflicts', () => {
    // The ipvs-controller rebuilds only the Services that changed; it relies on this.
    const sameRefusals = (a: readonly Refusal[], b: readonly Refusal[]) => expect(JSON.stringify([...a].map((r) => JSON.stringify(r)).sort())).toBe(JSON.stringify([...b].map((r) => JSON.stringify(r)).sort()));
    fc.assert(
      fc.property(fc.boolean(), fc.nat(), (corrupt, seed) => {
        const [world] = fc.sample(worldArb(corrupt), { numRuns: 1, seed });
        if (world === undefined) return;
        const whole = build(world);
        const alone = (Array.isArray(world.services) ? world.services : []).map((service) =>
          buildServiceDesired({ service, endpointSlices: world.endpointSlices, pods: world.pods, ownsVip, defaultClass: world.defaultClass }),
        );
        const settled = resolveVipPortConflicts(alone.flatMap((a) => a.candidates));
        expect(settled.services).toEqual(whole.services);
        sameRefusals([...new Set([...alone.flatMap((a) => a.refusals), ...settled.refusals].map((r) => JSON.stringify(r)))].map((r) => JSON.parse(r) as Refusal), whole.refusals);
        sameRefusals([...new Set(alone.flatMap((a) => a.warnings).map((r) => JSON.stringify(r)))].map((r) => JSON.parse(r) as Refusal), whole.warnings);
      }),
      { numRuns: 400 },
    );
  });

  it('never throws on malformed objects (any field may be anything)', () => {
    fc.assert(
      fc.property(worldArb(true), (world) => {
        const state = build(world);
        for (const r of state.refusals) expect(typeof r.message).toBe('string');
      }),
      { numRuns: 1000 },
    );
  });

  it('never throws when the lists themselves hold anything', () => {
    const junk = fc.anything({ withNullPrototype: true, withBoxedValues: true, withDate: true, withBigInt: true, withSparseArray: true });
    fc.assert(
      fc.property(fc.array(junk), fc.array(junk), fc.oneof(fc.array(junk), fc.constant(undefined)), (services, slices, pods) => {
        build({ services: services as V1Service[], endpointSlices: slices as V1EndpointSlice[], pods: pods as V1Pod[] | undefined, defaultClass: true });
      }),
    );
    // and not even arrays
    build({ services: null as unknown as V1Service[], endpointSlices: {} as unknown as V1EndpointSlice[], pods: 3 as unknown as V1Pod[], defaultClass: true });
  });
});

describe('the generator is not vacuous', () => {
  it('produces services with drained and ready destinations, conflicts and refusals', () => {
    const states = fc.sample(worldArb(false), { numRuns: 500, seed: 42 }).map(build);
    const services = states.flatMap((s) => s.services);
    const reasons = new Set(states.flatMap((s) => s.refusals.map((r) => r.reason)));
    expect(services.filter((s) => s.destinations.length >= 2).length).toBeGreaterThan(50);
    expect(services.some((s) => s.destinations.some((d) => d.weight === 0) && s.destinations.some((d) => d.weight === 1))).toBe(true);
    expect(services.some((s) => s.key.address.includes(':') && s.destinations.length > 0)).toBe(true);
    for (const r of ['PortMismatch', 'VipNotOwned', 'VipPortConflict', 'InvalidScheduler', 'InvalidEndpointAddress']) expect(reasons).toContain(r);
  });
});
