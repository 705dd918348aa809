// ResolverIndex keeps the desired state one Service (or policy) at a time from the cache's
// events; it must give exactly what buildResolverState gives over the objects the cache holds,
// whatever the sequence of events (adds, updates, deletes, relists, in any order, snapshots
// anywhere), and report as changed every service key whose service or frontends differ from
// the previous snapshot, with the frontends it had then.
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { namespacedKey } from '@balanced/k8s';
import { buildResolverState, ResolverIndex, type PodCgroups, type ResolverInput, type ResolverKind } from '../src/desired/index.js';
import { objectIdentity } from '../src/desired/object-ref.js';
import type { DesiredFrontend, DesiredState } from '../src/model.js';
import { compareFrontends } from '../src/plan/index.js';
import { TEST_POD_CGROUPS, worldArb } from './desired-world-arbitrary.js';

interface Canonical {
  readonly services: [string, unknown][];
  readonly frontends: DesiredFrontend[];
  readonly refusals: unknown[];
}

function canonical(state: DesiredState): Canonical {
  return {
    services: [...state.services.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
    frontends: [...state.frontends].sort(compareFrontends),
    refusals: [...state.refusals],
  };
}

const keyOf = (o: unknown): string => {
  const id = objectIdentity(o);
  return namespacedKey(id.namespace, id.name);
};

const KINDS: readonly ResolverKind[] = ['services', 'endpointslices', 'nodes', 'pods', 'localredirectpolicies', 'balancingpolicies'];

/** The informer caches: one object per namespace/name and kind. */
class FakeCache {
  readonly objects = Object.fromEntries(KINDS.map((k) => [k, new Map<string, unknown>()])) as Record<ResolverKind, Map<string, unknown>>;
  services = (): unknown[] => [...this.objects.services.values()];
  endpointSlices = (): unknown[] => [...this.objects.endpointslices.values()];
  nodes = (): unknown[] => [...this.objects.nodes.values()];
  pods = (): unknown[] => [...this.objects.pods.values()];
  localRedirectPolicies = (): unknown[] => [...this.objects.localredirectpolicies.values()];
  balancingPolicies = (): unknown[] => [...this.objects.balancingpolicies.values()];
}

type Event = { kind: ResolverKind; type: 'add' | 'update' | 'delete'; object: unknown } | { kind: ResolverKind; relist: true };

/** JSON with bigints (skip lists) as text. */
const text = (v: unknown): string => JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? `${x}n` : x));

/** The events that take the cache to `world` (objects kept as the very same ones send none). */
function eventsTo(cache: FakeCache, world: ResolverInput): Event[] {
  const out: Event[] = [];
  const lists: Record<ResolverKind, readonly unknown[]> = {
    services: world.services,
    endpointslices: world.endpointSlices,
    nodes: world.nodes,
    pods: world.pods ?? [],
    localredirectpolicies: world.localRedirectPolicies ?? [],
    balancingpolicies: world.balancingPolicies ?? [],
  };
  for (const kind of KINDS) {
    const target = new Map<string, unknown>();
    for (const o of lists[kind]) target.set(keyOf(o), o);
    for (const [key, o] of cache.objects[kind]) if (!target.has(key)) out.push({ kind, type: 'delete', object: o });
    for (const [key, o] of target) {
      const had = cache.objects[kind].get(key);
      if (had !== o) out.push({ kind, type: had === undefined ? 'add' : 'update', object: o });
    }
  }
  return out;
}

function applyToCache(cache: FakeCache, e: Event): void {
  if ('relist' in e) return;
  if (e.type === 'delete') cache.objects[e.kind].delete(keyOf(e.object));
  else cache.objects[e.kind].set(keyOf(e.object), e.object);
}

/** The next world: some objects of `prev` kept as the very same objects, the rest from `fresh`. */
function mix(prev: ResolverInput, fresh: ResolverInput, keep: readonly boolean[]): ResolverInput {
  let i = 0;
  const pick = <T,>(a: readonly T[], b: readonly T[]): T[] => [...a.filter(() => keep[i++ % keep.length] === true), ...b.filter(() => keep[i++ % keep.length] !== true)];
  return {
    services: pick(prev.services, fresh.services),
    endpointSlices: pick(prev.endpointSlices, fresh.endpointSlices),
    nodes: keep[0] === true ? prev.nodes : fresh.nodes,
    pods: pick(prev.pods ?? [], fresh.pods ?? []),
    localRedirectPolicies: pick(prev.localRedirectPolicies ?? [], fresh.localRedirectPolicies ?? []),
    balancingPolicies: pick(prev.balancingPolicies ?? [], fresh.balancingPolicies ?? []),
  };
}

const stepArb = fc.record({
  world: fc.oneof(worldArb(true), worldArb(false), worldArb(true, undefined, { policies: true }), worldArb(false, undefined, { policies: true })),
  keep: fc.array(fc.boolean(), { minLength: 1, maxLength: 7 }),
  /** Permutation seed and where snapshots are taken among the step's events. */
  order: fc.array(fc.nat(), { maxLength: 40 }),
  snapshots: fc.array(fc.boolean(), { minLength: 1, maxLength: 40 }),
  relists: fc.array(fc.constantFrom<ResolverKind>(...KINDS), { maxLength: 2 }),
  /** Kinds whose changes reach the index only through a relist at the end of the step (a watch that missed them). */
  silent: fc.subarray([...KINDS], { maxLength: 2 }),
  /** Tell the index the cgroup lookup may have changed (after the step's events). */
  cgroups: fc.boolean(),
});

/** A cgroup lookup that learns pods as the test goes: u1..u5 as TEST_POD_CGROUPS, once `known` holds them. */
function learningCgroups(): { lookup: PodCgroups; learn: () => void } {
  const known = new Set<string>(['u1', 'u2']);
  return {
    lookup: (uid) => (known.has(uid) ? TEST_POD_CGROUPS(uid) : undefined),
    learn: () => {
      for (const uid of ['u3', 'u4', 'u5']) {
        if (known.has(uid)) continue;
        known.add(uid);
        return;
      }
    },
  };
}

describe('ResolverIndex', () => {
  it('equals the whole builder over the cached objects, and reports every change, after any events', () => {
    fc.assert(
      fc.property(fc.option(fc.constantFrom('n1', 'n2'), { nil: undefined }), fc.array(stepArb, { minLength: 1, maxLength: 6 }), (nodeName, steps) => {
        const cache = new FakeCache();
        const cgroups = learningCgroups();
        const index = new ResolverIndex({ cluster: cache, nodeName, podCgroups: cgroups.lookup });
        const whole = (): DesiredState =>
          buildResolverState({
            services: cache.services(),
            endpointSlices: cache.endpointSlices(),
            nodes: cache.nodes(),
            pods: cache.pods(),
            localRedirectPolicies: cache.localRedirectPolicies(),
            balancingPolicies: cache.balancingPolicies(),
            podCgroups: cgroups.lookup,
            ...(nodeName === undefined ? {} : { nodeName }),
          } as ResolverInput);
        let previous: Canonical | undefined;
        const check = (): void => {
          const snap = index.snapshot();
          const now = canonical(snap.state);
          expect(now).toEqual(canonical(whole()));
          for (const [key] of now.services) expect([...snap.frontendsOf(key)].sort(compareFrontends)).toEqual(now.frontends.filter((f) => f.service === key));
          if (previous !== undefined) {
            expect(snap.changed).not.toBe('all');
            const changed = snap.changed as ReadonlyMap<string, readonly DesiredFrontend[]>;
            const was = new Map(previous.services);
            const is = new Map(now.services);
            for (const key of new Set([...was.keys(), ...is.keys()])) {
              const before = previous.frontends.filter((f) => f.service === key);
              const after = now.frontends.filter((f) => f.service === key);
              if (text([was.get(key), before]) !== text([is.get(key), after])) expect(changed.has(key)).toBe(true);
            }
            for (const [key, before] of changed) expect([...before].sort(compareFrontends)).toEqual(previous.frontends.filter((f) => f.service === key));
          } else expect(snap.changed).toBe('all');
          previous = now;
        };
        let world: ResolverInput = { services: [], endpointSlices: [], nodes: [] };
        for (const step of steps) {
          world = mix(world, step.world, step.keep);
          const events: Event[] = [...eventsTo(cache, world), ...step.relists.map((kind): Event => ({ kind, relist: true }))];
          // Any order: each event swapped with one picked by the seed.
          step.order.forEach((n, i) => {
            if (events.length < 2) return;
            const a = i % events.length;
            const b = n % events.length;
            [events[a], events[b]] = [events[b]!, events[a]!];
          });
          let missed = false;
          events.forEach((e, i) => {
            applyToCache(cache, e);
            if ('relist' in e) index.observe(e.kind);
            else if (step.silent.includes(e.kind)) missed = true;
            else index.observe(e.kind, { type: e.type, object: e.object });
            // (Until the relist, the index cannot know what it missed.)
            if (!missed && step.snapshots[i % step.snapshots.length] === true) check();
          });
          for (const kind of step.silent) index.observe(kind);
          check();
          if (step.cgroups) {
            cgroups.learn();
            index.observeCgroups();
          }
          check();
          check(); // nothing happened: the same state, nothing changed
        }
      }),
      { numRuns: Number(process.env.INDEX_PROPERTY_RUNS ?? 250) },
    );
  }, 180_000);

  it('rebuilds only what the events concern', () => {
    const cache = new FakeCache();
    const svc = (name: string, ip: string): unknown => ({
      metadata: { namespace: 'a', name, creationTimestamp: '2024-01-01T00:00:00Z' },
      spec: { clusterIP: ip, selector: { app: name }, ports: [{ name: 'http', port: 80, protocol: 'TCP' }] },
    });
    const slice = (name: string, address: string): unknown => ({
      metadata: { namespace: 'a', name: `${name}-x`, labels: { 'kubernetes.io/service-name': name } },
      addressType: 'IPv4',
      ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
      endpoints: [{ addresses: [address], conditions: { ready: true } }],
    });
    for (let i = 0; i < 50; i++) {
      cache.objects.services.set(`a/s${i}`, svc(`s${i}`, `10.96.0.${i + 1}`));
      cache.objects.endpointslices.set(`a/s${i}-x`, slice(`s${i}`, `10.0.0.${i + 1}`));
    }
    const index = new ResolverIndex({ cluster: cache, nodeName: undefined });
    const first = index.snapshot();
    expect(first.changed).toBe('all');
    expect(first.state.services.size).toBe(50);
    const changedSlice = slice('s7', '10.0.1.1');
    cache.objects.endpointslices.set('a/s7-x', changedSlice);
    index.observe('endpointslices', { type: 'update', object: changedSlice });
    const second = index.snapshot();
    expect([...(second.changed as ReadonlyMap<string, unknown>).keys()]).toEqual(['a/s7:http/TCP IPv4']);
    expect(second.state.services.get('a/s7:http/TCP IPv4')?.backends.map((b) => b.address)).toEqual(['10.0.1.1']);
    // A relist that hands out equal objects changes nothing.
    for (const [k, o] of cache.objects.services) cache.objects.services.set(k, structuredClone(o));
    index.observe('services');
    expect((index.snapshot().changed as ReadonlyMap<string, unknown>).size).toBe(0);
  });

  it('refuses a cached value that is not an object, as the whole builder does (found by the property above)', () => {
    const cache = new FakeCache();
    const index = new ResolverIndex({ cluster: cache, nodeName: undefined });
    cache.objects.services.set('/', undefined);
    index.observe('services', { type: 'update', object: undefined });
    const refusals = index.snapshot().state.refusals;
    expect(refusals.map((r) => r.reason)).toEqual(['InvalidObject']);
    expect(refusals).toEqual(buildResolverState({ services: [undefined] as never[], endpointSlices: [], nodes: [] }).refusals);
  });
});
