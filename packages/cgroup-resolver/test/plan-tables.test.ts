// Examples for planMaps: table sizes, the frozen Maglev ids, flags, revisions, id reuse.
import { describe, expect, it } from '@jest/globals';
import { createMaglev } from '@balanced/maglev';
import type { DesiredBackend, DesiredService, DesiredState, MapsDump, ServiceOptions } from '../src/model.js';
import {
  applyToDump,
  backendMaglevId,
  createTableBuilder,
  MapsMirror,
  MAX_SKIP_CGROUPS,
  PlanInputError,
  planChanges,
  planMaps,
  SVC_F_AFFINITY,
  SVC_F_LOCAL_ONLY,
  SVC_F_REFUSE_EMPTY,
  tableSizeFor,
} from '../src/plan/index.js';
import { EMPTY_DUMP } from './plan-helpers.js';

const b = (address: string, port = 80, weight = 1, local = false): DesiredBackend => ({ address, port, weight, local });
const OPTIONS: ServiceOptions = { refuseWhenEmpty: true, localOnly: false };

function state(services: Record<string, { backends: DesiredBackend[]; options?: ServiceOptions; frontends: string[]; skipCgroups?: bigint[] }>): DesiredState {
  const list: DesiredService[] = Object.entries(services).map(([key, s]) => ({
    key,
    backends: s.backends,
    options: s.options ?? OPTIONS,
    ...(s.skipCgroups === undefined ? {} : { skipCgroups: s.skipCgroups }),
  }));
  const frontends = Object.entries(services).flatMap(([key, s]) => s.frontends.map((address) => ({ address, port: 80, protocol: 'TCP' as const, kind: 'service' as const, service: key })));
  return { services: new Map(list.map((s) => [s.key, s])), frontends, refusals: [] };
}

function puts(plan: ReturnType<typeof planMaps>): string[] {
  return plan.ops.map((o) => `${o.op} ${'id' in o ? o.id : `${o.frontend.address}→${o.frontend.serviceId}`}`);
}

describe('service tables', () => {
  it('sizes: smallest allowed prime ≥ 100 × live backends, at least 251, capped, and above the backend count', () => {
    expect(tableSizeFor(1)).toBe(251);
    expect(tableSizeFor(2)).toBe(251);
    expect(tableSizeFor(3)).toBe(509);
    expect(tableSizeFor(11)).toBe(2039);
    expect(tableSizeFor(1311)).toBe(131071);
    expect(tableSizeFor(5000)).toBe(131071);
    expect(tableSizeFor(1, 300)).toBe(509);
  });

  it('backend ids in the Maglev hash: address:port, [address]:port for IPv6 (frozen)', () => {
    expect(backendMaglevId('10.0.0.1', 8080)).toBe('10.0.0.1:8080');
    expect(backendMaglevId('fd00::1', 8080)).toBe('[fd00::1]:8080');
  });

  it('is the @balanced/maglev table, backends in its sorted order, slots as bytes (u16 past 256 backends)', () => {
    const backends = [b('10.0.0.3'), b('fd00::1', 53), b('10.0.0.1', 80, 0), b('10.0.0.2', 80, 2)];
    const built = createTableBuilder()(backends);
    const reference = createMaglev({ tableSize: 509 }).build(backends.map((x) => ({ id: backendMaglevId(x.address, x.port), weight: x.weight })));
    expect(built.backends.map((x) => backendMaglevId(x.address, x.port))).toEqual(reference.keys);
    expect(built.backends.map((x) => backendMaglevId(x.address, x.port))).toEqual(['10.0.0.1:80', '10.0.0.2:80', '10.0.0.3:80', '[fd00::1]:53']);
    expect(built.slots).toBeInstanceOf(Uint8Array);
    expect([...built.slots]).toEqual([...reference.slots]);
    const many = Array.from({ length: 257 }, (_, i) => b(`10.1.${i >> 8}.${i & 255}`));
    const wide = createTableBuilder()(many);
    expect(wide.slots).toBeInstanceOf(Uint16Array);
    expect(Math.max(...wide.slots)).toBe(256);
    expect(createTableBuilder()(many.slice(0, 256)).slots).toBeInstanceOf(Uint8Array);
  });

  it('no live backend: no slots, the list kept', () => {
    const built = createTableBuilder()([b('10.0.0.2', 80, 0), b('10.0.0.1', 80, 0)]);
    expect(built.slots.length).toBe(0);
    expect(built.backends.map((x) => x.address)).toEqual(['10.0.0.1', '10.0.0.2']);
    expect(createTableBuilder()([]).slots.length).toBe(0);
  });

  it('flags and timeout from the options', () => {
    expect([SVC_F_AFFINITY, SVC_F_LOCAL_ONLY, SVC_F_REFUSE_EMPTY]).toEqual([1, 2, 4]);
    const plan = planMaps(state({ s: { backends: [b('10.0.0.1')], options: { affinityTimeoutSeconds: 60, refuseWhenEmpty: true, localOnly: true }, frontends: ['10.96.0.1'] } }), EMPTY_DUMP);
    const put = plan.ops.find((o) => o.op === 'service-put');
    expect(put?.op === 'service-put' && [put.table.flags, put.table.affinityTimeoutSeconds, put.table.slots.length]).toEqual([7, 60, 251]);
  });

  it('refuses a desired state it cannot publish', () => {
    const twice = state({ s: { backends: [b('10.0.0.1'), b('10.0.0.1')], frontends: ['10.96.0.1'] } });
    expect(() => planMaps(twice, EMPTY_DUMP)).toThrow(PlanInputError);
    const dangling: DesiredState = { ...state({}), frontends: [{ address: '10.96.0.1', port: 80, protocol: 'TCP', kind: 'service', service: 'nope' }] };
    expect(() => planMaps(dangling, EMPTY_DUMP)).toThrow(PlanInputError);
    expect(() => planMaps(state({ s: { backends: [b('10.0.0.1', 80, 1.5)], frontends: ['10.96.0.1'] } }), EMPTY_DUMP)).toThrow(PlanInputError);
  });
});

describe('ids and minimal ops', () => {
  const one = state({ web: { backends: [b('10.0.0.1'), b('10.0.0.2')], frontends: ['10.96.0.1'] } });

  it('publishes in order from nothing, with ids from 1', () => {
    const plan = planMaps(one, EMPTY_DUMP);
    expect(puts(plan)).toEqual(['backend-put 1', 'backend-put 2', 'service-put 1', 'frontend-put 10.96.0.1→1']);
    expect(plan.serviceIds).toEqual(new Map([['web', 1]]));
  });

  it('a revision-only difference is no change; a table change bumps the revision', () => {
    const dump = applyToDump(EMPTY_DUMP, planMaps(one, EMPTY_DUMP));
    const bumped: MapsDump = { ...dump, services: new Map([[1, { ...dump.services.get(1)!, revision: 41 }]]) };
    expect(planMaps(one, bumped).ops).toEqual([]);
    const grown = state({ web: { backends: [b('10.0.0.1'), b('10.0.0.2'), b('10.0.0.3')], frontends: ['10.96.0.1'] } });
    const plan = planMaps(grown, bumped);
    expect(puts(plan)).toEqual(['backend-put 3', 'service-put 1']);
    expect(plan.ops[1]?.op === 'service-put' && plan.ops[1].table.revision).toBe(42);
  });

  it("reuses a backend's id by address and port; a local change is a put on the same id; new ones take the lowest free id", () => {
    const dump: MapsDump = {
      frontends: [{ address: '10.96.0.1', port: 80, protocol: 'TCP', kind: 'service', serviceId: 7 }],
      services: new Map([[7, { backendIds: [5, 2], slots: new Uint16Array(0), flags: 4, affinityTimeoutSeconds: 0, revision: 3, skipCgroups: [] }]]),
      backends: new Map([
        [5, { address: '10.0.0.1', port: 80, local: false }],
        [2, { address: '10.0.0.9', port: 80, local: false }],
      ]),
    };
    const desired = state({ web: { backends: [b('10.0.0.1', 80, 1, true), b('10.0.0.3'), b('10.0.0.4')], frontends: ['10.96.0.1'] } });
    const plan = planMaps(desired, dump);
    expect(puts(plan)).toEqual(['backend-put 1', 'backend-put 3', 'backend-put 5', 'service-put 7', 'backend-delete 2']);
    expect(plan.removed).toEqual([{ serviceId: 7, address: '10.0.0.9', port: 80 }]);
    expect(plan.serviceIds).toEqual(new Map([['web', 7]]));
  });

  it("recovers a service's id through its frontends; a new service never takes an id the dump still holds", () => {
    const dump = applyToDump(EMPTY_DUMP, planMaps(state({ old: { backends: [b('10.0.0.1')], frontends: ['10.96.0.1'] }, web: { backends: [b('10.0.0.2')], frontends: ['10.96.0.2', '10.96.0.3'] } }), EMPTY_DUMP));
    // renamed keys, same frontends: same ids; a new service gets 3 although `old` (id 1) goes
    const desired = state({ fresh: { backends: [b('10.0.0.5')], frontends: ['10.96.0.9'] }, renamed: { backends: [b('10.0.0.2')], frontends: ['10.96.0.3'] } });
    const plan = planMaps(desired, dump);
    expect(plan.serviceIds).toEqual(new Map([['fresh', 3], ['renamed', 2]]));
    expect(puts(plan)).toEqual(['backend-put 3', 'service-put 3', 'frontend-put 10.96.0.9→3', 'frontend-delete 10.96.0.1→1', 'frontend-delete 10.96.0.2→2', 'service-delete 1', 'backend-delete 1']);
    expect(plan.removed).toEqual([{ serviceId: 1, address: '10.0.0.1', port: 80 }]);
  });

  it('a service whose frontends name several ids takes the smallest', () => {
    const dump: MapsDump = {
      frontends: [
        { address: '10.96.0.1', port: 80, protocol: 'TCP', kind: 'service', serviceId: 5 },
        { address: '10.96.0.2', port: 80, protocol: 'TCP', kind: 'service', serviceId: 3 },
      ],
      services: new Map([3, 5].map((id) => [id, { backendIds: [], slots: new Uint16Array(0), flags: 4, affinityTimeoutSeconds: 0, revision: 1, skipCgroups: [] }])),
      backends: new Map(),
    };
    const plan = planMaps(state({ web: { backends: [], frontends: ['10.96.0.1', '10.96.0.2'] } }), dump);
    expect(plan.serviceIds).toEqual(new Map([['web', 3]]));
    expect(puts(plan)).toEqual(['frontend-put 10.96.0.1→3', 'service-delete 5']);
  });

  it('two services once sharing one table: the first key keeps the id', () => {
    const dump = applyToDump(EMPTY_DUMP, planMaps(state({ shared: { backends: [b('10.0.0.1'), b('10.0.0.2')], frontends: ['10.96.0.1', '10.96.0.2'] } }), EMPTY_DUMP));
    const desired = state({ a: { backends: [b('10.0.0.1'), b('10.0.0.2')], frontends: ['10.96.0.2'] }, b: { backends: [b('10.0.0.1')], frontends: ['10.96.0.1'] } });
    const plan = planMaps(desired, dump);
    expect(plan.serviceIds).toEqual(new Map([['a', 1], ['b', 2]]));
    expect(puts(plan)).toEqual(['service-put 2', 'frontend-put 10.96.0.1→2']);
    expect(plan.removed).toEqual([]);
  });
});

describe('skip cgroups (a redirect backend is never redirected to itself)', () => {
  const REDIRECT: ServiceOptions = { refuseWhenEmpty: false, localOnly: true };
  const dns = (skipCgroups?: bigint[]) => state({ 'lrp dns': { backends: [b('10.0.0.1', 53, 1, true)], options: REDIRECT, frontends: ['10.96.0.10'], ...(skipCgroups === undefined ? {} : { skipCgroups }) } });
  const tableOf = (plan: ReturnType<typeof planMaps>) => plan.ops.flatMap((o) => (o.op === 'service-put' ? [o.table] : []));

  it("go into the service's table, sorted and without repeats; none = []", () => {
    expect(tableOf(planMaps(dns([9n, 3n, 9n, 2n ** 63n]), EMPTY_DUMP)).map((t) => t.skipCgroups)).toEqual([[3n, 9n, 2n ** 63n]]);
    expect(tableOf(planMaps(dns(), EMPTY_DUMP)).map((t) => t.skipCgroups)).toEqual([[]]);
  });

  it('a change of skip ids alone republishes the service (revision + 1) and nothing else; the same ids in another order do not', () => {
    const dump = applyToDump(EMPTY_DUMP, planMaps(dns([3n]), EMPTY_DUMP));
    expect(planMaps(dns([3n]), dump).ops).toEqual([]);
    for (const ids of [[3n, 4n], [4n], []]) {
      const plan = planMaps(dns(ids), dump);
      expect(puts(plan)).toEqual(['service-put 1']);
      expect(plan.ops[0]).toMatchObject({ op: 'service-put', table: { skipCgroups: ids, revision: 2, backendIds: dump.services.get(1)!.backendIds } });
      expect(plan.removed).toEqual([]);
    }
    const two = applyToDump(EMPTY_DUMP, planMaps(dns([3n, 4n]), EMPTY_DUMP));
    expect(planMaps(dns([4n, 3n, 4n]), two).ops).toEqual([]);
  });

  it('planChanges (the agent passes) republishes a service whose skip ids alone changed', () => {
    const last = dns([3n]);
    const mirror = MapsMirror.fromDump(applyToDump(EMPTY_DUMP, planMaps(last, EMPTY_DUMP)));
    const next = dns([3n, 7n]);
    const plan = planChanges(last, next, mirror);
    expect(plan?.ops).toEqual([expect.objectContaining({ op: 'service-put', id: 1, table: expect.objectContaining({ skipCgroups: [3n, 7n], revision: 2 }) })]);
    mirror.apply(plan!.ops);
    expect(mirror.services.get(1)?.skipCgroups).toEqual([3n, 7n]);
    expect(planChanges(next, dns([3n, 7n]), mirror)?.ops).toEqual([]);
  });

  it(`refuses more than ${MAX_SKIP_CGROUPS} distinct ids (the builder trims them and reports a refusal) and ids outside 1..2^64-1`, () => {
    expect(MAX_SKIP_CGROUPS).toBe(4);
    expect(() => planMaps(dns([1n, 2n, 3n, 4n, 4n]), EMPTY_DUMP)).not.toThrow();
    expect(() => planMaps(dns([1n, 2n, 3n, 4n, 5n]), EMPTY_DUMP)).toThrow(PlanInputError);
    expect(() => planMaps(dns([0n]), EMPTY_DUMP)).toThrow(PlanInputError);
    expect(() => planMaps(dns([2n ** 64n]), EMPTY_DUMP)).toThrow(PlanInputError);
  });
});
