// Invariants of the pure core over random clusters: a small address space (so pools overlap,
// run out, and Services collide), random roles, labels, annotations, requests and statuses.

import { describe, expect, test } from '@jest/globals';
import fc from 'fast-check';

import { parseAddress } from '../src/address.js';
import { allocate, type AllocationPlan } from '../src/allocate.js';
import { matchesSelector } from '../src/label-selector.js';
import { poolAllows, type VipPool } from '../src/pool.js';
import type { ServiceInput } from '../src/service-input.js';
import { input, pool, type PoolSpec, type SvcOptions } from './fixtures.js';

const V4A = Array.from({ length: 20 }, (_, i) => `10.0.0.${i}`);
const V4B = Array.from({ length: 10 }, (_, i) => `10.0.1.${250 + i > 255 ? i : 250 + i}`);
const V6 = Array.from({ length: 6 }, (_, i) => `fd00::${i.toString(16)}`);
const ADDRESSES = [...V4A, ...V4B, ...V6, '192.168.0.1'];

const poolSpec: fc.Arbitrary<PoolSpec> = fc.record({
  cidrs: fc.uniqueArray(fc.constantFrom('10.0.0.0/29', '10.0.0.8/30', '10.0.0.4-10.0.0.13', '10.0.1.250-10.0.1.255', '10.0.1.0/30', 'fd00::/126', 'fd00::4/127'), { minLength: 1, maxLength: 3 }),
  autoAssign: fc.boolean(),
  avoidBuggyIPs: fc.boolean(),
  serviceSelector: fc.option(fc.constantFrom({ matchLabels: { tier: 'a' } }, { matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['a'] }] }), { nil: undefined }),
});
const pools: fc.Arbitrary<VipPool[]> = fc
  .uniqueArray(fc.tuple(fc.constantFrom('p1', 'p2', 'p3', 'p4'), poolSpec), { selector: ([n]) => n, maxLength: 4 })
  .map((list) => list.map(([name, spec]) => pool(name, spec)));

const svcOptions: fc.Arbitrary<SvcOptions> = fc.record(
  {
    type: fc.constantFrom('LoadBalancer', 'LoadBalancer', 'LoadBalancer', 'ClusterIP'),
    loadBalancerClass: fc.constantFrom<string | null>('balanced.dev/ipvs', 'balanced.dev/ipvs', 'balanced.dev/ipvs', null, 'example.com/other'),
    labels: fc.constantFrom<Record<string, string>>({}, { tier: 'a' }, { tier: 'b' }),
    annotations: fc.oneof(
      { weight: 4, arbitrary: fc.constant({}) },
      { weight: 1, arbitrary: fc.constantFrom('p1', 'p2', 'p9').map((p) => ({ 'balanced.dev/ip-pool': p })) },
      { weight: 2, arbitrary: fc.uniqueArray(fc.constantFrom(...ADDRESSES), { minLength: 1, maxLength: 3 }).map((r) => ({ 'balanced.dev/ip-request': r.join(',') })) },
      { weight: 1, arbitrary: fc.constant({ 'balanced.dev/ip-request': 'ten' }) },
    ),
    loadBalancerIP: fc.constantFrom(...ADDRESSES),
    ipFamilies: fc.constantFrom(['IPv4'], ['IPv6']),
    ingress: fc.uniqueArray(fc.constantFrom(...ADDRESSES), { maxLength: 2 }),
    created: fc.integer({ min: 0, max: 5 }).map((m) => `2025-01-01T00:0${m}:00Z`),
    terminating: fc.boolean(),
  },
  { requiredKeys: ['type', 'loadBalancerClass', 'labels', 'annotations', 'ingress', 'created'] },
);

interface Cluster {
  services: ServiceInput[];
  pools: VipPool[];
}

const cluster: fc.Arbitrary<Cluster> = fc.record({
  services: fc.array(svcOptions, { maxLength: 25 }).map((list) => list.map((o, i) => input(`s${i}`, { ...o, terminating: o.terminating === true && i % 5 === 0 }))),
  pools,
});

/** The Services as they are once the plan's status writes are done. */
function apply(services: readonly ServiceInput[], plan: AllocationPlan): ServiceInput[] {
  const byKey = new Map(plan.changes.map((c) => [c.key, c]));
  return services.map((s) => {
    const c = byKey.get(s.key);
    return c === undefined ? s : { ...s, ingress: c.ips };
  });
}

const inPools = (pools: readonly VipPool[], ip: string): boolean => {
  const a = parseAddress(ip);
  return a !== undefined && pools.some((p) => p.ranges.some((r) => r.family === a.family && a.value >= r.first && a.value <= r.last));
};

function permittedPools(s: ServiceInput, pools: readonly VipPool[]): VipPool[] {
  if (s.pool !== undefined) return pools.filter((p) => p.name === s.pool);
  return pools.filter((p) => p.serviceSelector === undefined || matchesSelector(p.serviceSelector, s.labels));
}

const byAge = (a: ServiceInput, b: ServiceInput): number => a.createdAt - b.createdAt || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);

describe('allocate: properties', () => {
  test('no address of our pools is held by two Services once the plan is applied (foreign pairs aside)', () => {
    fc.assert(
      fc.property(cluster, ({ services, pools }) => {
        const after = apply(services, allocate({ services, pools }));
        const holders = new Map<string, ServiceInput[]>();
        for (const s of after) for (const ip of s.ingress) if (inPools(pools, ip)) holders.set(ip, [...(holders.get(ip) ?? []), s]);
        for (const [ip, list] of holders) {
          const ours = list.filter((s) => s.role !== 'foreign');
          if (list.length > 1) expect({ ip, holders: list.map((s) => `${s.key}:${s.role}`), ours: ours.length }).toEqual({ ip, holders: list.map((s) => `${s.key}:${s.role}`), ours: 0 });
        }
        for (const s of after) if (s.role === 'releasable') expect(s.ingress.filter((ip) => inPools(pools, ip))).toEqual([]);
        for (const s of after) if (s.role === 'ours') expect(s.ingress.length).toBeLessThanOrEqual(1);
      }),
      { numRuns: 400 },
    );
  });

  test('every address given is inside a pool the Service may use, and not a .0/.255 the pool avoids', () => {
    fc.assert(
      fc.property(cluster, ({ services, pools }) => {
        const plan = allocate({ services, pools });
        for (const c of plan.changes) {
          if (c.assigned === undefined) continue;
          const s = services.find((x) => x.key === c.key)!;
          const a = parseAddress(c.assigned.ip)!;
          const p = permittedPools(s, pools).find((x) => x.name === c.assigned?.pool);
          expect(p).toBeDefined();
          expect(poolAllows(p!, a)).toBe(true);
          if (s.requests.length > 0) expect(s.requests).toContain(c.assigned.ip);
          else if (s.pool === undefined) expect(p!.autoAssign).toBe(true);
        }
      }),
      { numRuns: 400 },
    );
  });

  test('a request is honoured when its first address is free and in a pool the Service may use', () => {
    fc.assert(
      fc.property(cluster, ({ services, pools }) => {
        const plan = allocate({ services, pools });
        for (const s of services) {
          if (s.role !== 'ours' || s.problems.length > 0 || s.requests.length === 0 || s.terminating) continue;
          const first = s.requests[0]!;
          const a = parseAddress(first);
          const allowed = a !== undefined && permittedPools(s, pools).some((p) => poolAllows(p, a));
          const elsewhere = services.some((o) => o.key !== s.key && o.ingress.includes(first));
          const olderAsks = services.some((o) => o.key !== s.key && o.role === 'ours' && byAge(o, s) < 0 && o.requests.includes(first));
          if (!allowed || elsewhere || olderAsks) continue;
          const got = plan.assignments.get(s.key)?.ip;
          // Either the first request, or another requested address it already held (stable).
          expect(got === first || (got !== undefined && s.requests.includes(got) && s.ingress.includes(got))).toBe(true);
        }
      }),
      { numRuns: 400 },
    );
  });

  test('a valid address already held, claimed by nobody older, is kept without a write', () => {
    fc.assert(
      fc.property(cluster, ({ services, pools }) => {
        const plan = allocate({ services, pools });
        for (const s of services) {
          if (s.role !== 'ours' || s.problems.length > 0 || s.ingress.length !== 1) continue;
          const held = s.ingress[0]!;
          const a = parseAddress(held);
          if (a === undefined || !permittedPools(s, pools).some((p) => poolAllows(p, a))) continue;
          if (s.requests.length > 0 && !s.requests.includes(held)) continue;
          const claimedBefore = services.some((o) => o.key !== s.key && o.ingress.includes(held) && (o.role !== 'ours' || byAge(o, s) < 0));
          if (claimedBefore) continue;
          expect(plan.assignments.get(s.key)?.ip).toBe(held);
          expect(plan.changes.find((c) => c.key === s.key)).toBeUndefined();
        }
      }),
      { numRuns: 400 },
    );
  });

  test('an address outside every pool, held by a Service of ours, stays unless the Service asks for another', () => {
    fc.assert(
      fc.property(cluster, ({ services, pools }) => {
        const plan = allocate({ services, pools });
        const after = new Map(apply(services, plan).map((s) => [s.key, s]));
        for (const s of services) {
          if (s.role !== 'ours' || s.ingress.some((ip) => inPools(pools, ip))) continue;
          const held = s.ingress.find((ip) => parseAddress(ip) !== undefined);
          if (held === undefined) continue;
          if (s.requests.length > 0 && !s.requests.includes(held)) continue; // asks for another address
          if (s.pool !== undefined && pools.some((p) => p.name === s.pool)) continue; // names a pool that exists
          if (services.some((o) => o.key !== s.key && o.ingress.includes(held))) continue; // shared: IpConflict decides
          expect({ key: s.key, ingress: after.get(s.key)?.ingress }).toEqual({ key: s.key, ingress: [held] });
          expect(plan.outsidePools.some((o) => o.key === s.key && o.ip === held)).toBe(true);
        }
      }),
      { numRuns: 400 },
    );
  });

  test('deterministic: the order of Services and pools does not matter', () => {
    fc.assert(
      fc.property(cluster, fc.infiniteStream(fc.nat()), ({ services, pools }, randoms) => {
        const shuffle = <T>(xs: readonly T[]): T[] => {
          const out = [...xs];
          const it = randoms[Symbol.iterator]();
          for (let i = out.length - 1; i > 0; i--) {
            const j = (it.next().value as number) % (i + 1);
            [out[i], out[j]] = [out[j]!, out[i]!];
          }
          return out;
        };
        const a = allocate({ services, pools });
        const b = allocate({ services: shuffle(services), pools: shuffle(pools) });
        expect({ ...b, assignments: [...b.assignments].sort() }).toEqual({ ...a, assignments: [...a.assignments].sort() });
      }),
      { numRuns: 200 },
    );
  });

  test('settles: applying the plan and planning again reaches a state with nothing to write within 3 rounds', () => {
    fc.assert(
      fc.property(cluster, ({ services, pools }) => {
        let state = services;
        let plan = allocate({ services: state, pools });
        for (let round = 0; round < 3 && plan.changes.length > 0; round++) {
          state = apply(state, plan);
          plan = allocate({ services: state, pools });
        }
        expect(plan.changes).toEqual([]);
        expect(plan.failures.filter((f) => f.reason === 'IpConflict')).toEqual([]);
      }),
      { numRuns: 300 },
    );
  });

  test('PoolExhausted only when every address of the family in the automatic pools is held', () => {
    fc.assert(
      fc.property(cluster, ({ services, pools }) => {
        const plan = allocate({ services, pools });
        const exhausted = plan.failures.filter((f) => f.reason === 'PoolExhausted');
        if (exhausted.length === 0) return;
        const held = new Set([...services.flatMap((s) => s.ingress), ...plan.changes.flatMap((c) => c.ips)]);
        for (const f of exhausted) {
          const s = services.find((x) => x.key === f.key)!;
          const automatic = s.pool !== undefined ? pools.filter((p) => p.name === s.pool) : permittedPools(s, pools).filter((p) => p.autoAssign);
          for (const ip of ADDRESSES) {
            const a = parseAddress(ip)!;
            if (a.family !== s.family || !automatic.some((p) => poolAllows(p, a))) continue;
            expect({ ip, held: held.has(ip) }).toEqual({ ip, held: true });
          }
        }
        for (const u of plan.usage) expect(BigInt(u.allocated) <= u.capacity).toBe(true);
      }),
      { numRuns: 400 },
    );
  });
});
