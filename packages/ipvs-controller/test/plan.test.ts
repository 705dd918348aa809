import { describe, expect, test } from '@jest/globals';
import fc from 'fast-check';
import { ServiceFlags, serviceKeyString, type IpvsOperation, type ServiceKey } from '@balanced/ipvs';
import { applyToModel, dumpModel, plan, type DesiredDestination, type DesiredService, type ModelService, type PlanContext } from '../src/index.js';

const OWNED_PREFIX = '10.96.';
const owns = (k: ServiceKey): boolean => !('fwmark' in k) && k.address.startsWith(OWNED_PREFIX);
const ctx = (drainingSince: ReadonlyMap<string, number> = new Map(), now = 1_000_000): PlanContext => ({ owns, now, drainingSince, defaultDrainSeconds: 30 });

const VIPS = ['10.96.0.1', '10.96.0.2', '10.96.0.3'];
const BACKENDS = Array.from({ length: 12 }, (_, i) => `10.244.0.${i + 1}`);
/** The table weight of a backend is a property of the backend (as a config weight would be). */
const tableWeight = (address: string): number => 1 + (Number(address.split('.')[3]) % 3);

const key = (vip: string): ServiceKey => ({ protocol: 'tcp', address: vip, port: 80 });
const byAddress = (a: DesiredDestination, b: DesiredDestination): number => Number(a.address.split('.')[3]) - Number(b.address.split('.')[3]);

function desiredService(vip: string, backends: readonly { address: string; drained: boolean }[], scheduler = 'mh'): DesiredService {
  const destinations = backends
    .map(({ address, drained }): DesiredDestination => ({ address, port: 80, forwarding: 'tunnel', weight: drained ? 0 : tableWeight(address), lastWeight: tableWeight(address) }))
    .sort(byAddress);
  return { spec: { key: key(vip), scheduler, flags: ServiceFlags.MH_FALLBACK }, destinations, drainSeconds: 30 };
}

const arbDesired: fc.Arbitrary<DesiredService[]> = fc
  .uniqueArray(fc.constantFrom(...VIPS), { maxLength: VIPS.length })
  .chain((vips) =>
    fc.tuple(
      ...vips.map((vip) =>
        fc
          .uniqueArray(fc.record({ address: fc.constantFrom(...BACKENDS), drained: fc.boolean() }), { selector: (b) => b.address, maxLength: 8 })
          .map((bs) => desiredService(vip, bs)),
      ),
    ),
  );

const UNOWNED: ModelService = applyToModel(
  [],
  [
    { op: 'add-service', service: { key: { protocol: 'udp', address: '192.0.2.9', port: 53 }, scheduler: 'rr' } },
    { op: 'add-destination', service: { protocol: 'udp', address: '192.0.2.9', port: 53 }, destination: { address: '10.9.9.9', port: 53, forwarding: 'masquerade', weight: 1 } },
  ],
)[0] as ModelService;

/** Plan and apply until nothing is left to do (at most 3 rounds: drain, then delete). */
function converge(state: ModelService[], desired: readonly DesiredService[]): { state: ModelService[]; rounds: number; ops: IpvsOperation[][] } {
  let draining: ReadonlyMap<string, number> = new Map();
  const all: IpvsOperation[][] = [];
  for (let round = 0; round < 4; round++) {
    const p = plan(desired, dumpModel(state), ctx(draining));
    if (p.ops.length === 0) return { state, rounds: round, ops: all };
    all.push([...p.ops]);
    state = applyToModel(state, p.ops);
    draining = p.drainingSince;
  }
  throw new Error(`did not converge: ${JSON.stringify(all.at(-1))}`);
}

/** Owned services as comparable data: order, weight and the hidden last_weight. */
const owned = (state: readonly ModelService[]) =>
  state
    .filter((s) => owns(s.service.key))
    .map((s) => ({ key: serviceKeyString(s.service.key), scheduler: s.service.scheduler, flags: s.service.flags, dests: s.destinations.map((d) => [d.address, d.weight, d.lastWeight]) }))
    .sort((a, b) => a.key.localeCompare(b.key));

const expected = (desired: readonly DesiredService[]) =>
  desired
    .map((s) => ({ key: serviceKeyString(s.spec.key), scheduler: s.spec.scheduler, flags: s.spec.flags ?? 0, dests: s.destinations.map((d) => [d.address, d.weight, d.lastWeight]) }))
    .sort((a, b) => a.key.localeCompare(b.key));

describe('plan (properties)', () => {
  test('from any history the kernel ends in the desired state: same order, weights and last_weight', () => {
    fc.assert(
      fc.property(fc.array(arbDesired, { maxLength: 4 }), arbDesired, (history, final) => {
        let state: ModelService[] = [UNOWNED];
        for (const step of history) state = converge(state, step).state;
        state = converge(state, final).state;
        expect(owned(state)).toEqual(expected(final));
      }),
      { numRuns: 300 },
    );
  });

  test('two directors with different histories hold identical tables (incl. last_weight)', () => {
    fc.assert(
      fc.property(fc.array(arbDesired, { maxLength: 4 }), fc.array(arbDesired, { maxLength: 4 }), arbDesired, (h1, h2, final) => {
        const run = (h: DesiredService[][]) => owned(converge(h.reduce((s, step) => converge(s, step).state, [] as ModelService[]), final).state);
        expect(run(h1)).toEqual(run(h2));
      }),
      { numRuns: 200 },
    );
  });

  test('the plan of the desired state against itself is empty', () => {
    fc.assert(
      fc.property(arbDesired, (desired) => {
        const { state } = converge([UNOWNED], desired);
        expect(plan(desired, dumpModel(state), ctx()).ops).toEqual([]);
      }),
    );
  });

  test('ops never touch services outside ownership, and unowned services survive unchanged', () => {
    fc.assert(
      fc.property(fc.array(arbDesired, { maxLength: 3 }), (steps) => {
        let state: ModelService[] = [UNOWNED];
        for (const step of steps) {
          const withForeign: DesiredService[] = [...step, desiredService('192.0.2.77', [{ address: '10.244.0.1', drained: false }])];
          const p = plan(withForeign, dumpModel(state), ctx());
          for (const o of p.ops) expect(owns('key' in o.service ? o.service.key : o.service)).toBe(true);
          state = converge(state, step).state;
        }
        expect(state.find((s) => !owns(s.service.key))).toEqual(UNOWNED);
      }),
    );
  });

  test('every plan is valid in sequence against the kernel model (no EEXIST/ENOENT/ESRCH)', () => {
    fc.assert(
      fc.property(fc.array(arbDesired, { minLength: 1, maxLength: 5 }), (steps) => {
        let state: ModelService[] = [];
        for (const step of steps) state = converge(state, step).state; // applyToModel throws on an invalid op
      }),
    );
  });
});

describe('plan (examples)', () => {
  const start = (backends: string[]) => converge([], [desiredService(VIPS[0] as string, backends.map((address) => ({ address, drained: false })))]).state;

  test('a fresh service is created with destinations inserted last-first', () => {
    const p = plan([desiredService('10.96.0.1', [{ address: '10.244.0.2', drained: false }, { address: '10.244.0.1', drained: false }])], [], ctx());
    expect(p.ops.map((o) => [o.op, 'destination' in o ? o.destination.address : ''])).toEqual([
      ['add-service', ''],
      ['add-destination', '10.244.0.2'],
      ['add-destination', '10.244.0.1'],
    ]);
  });

  test('a drained destination on a fresh director is added with its table weight, then set to 0', () => {
    const p = plan([desiredService('10.96.0.1', [{ address: '10.244.0.5', drained: true }])], [], ctx());
    expect(p.ops.slice(1).map((o) => [o.op !== 'delete-destination' && 'destination' in o ? o.destination.weight : -1, o.op])).toEqual([
      [tableWeight('10.244.0.5'), 'add-destination'],
      [0, 'update-destination'],
    ]);
  });

  test('a backend that sorts first costs one op; one that sorts last rebuilds the list in front of it', () => {
    const state = start(['10.244.0.5', '10.244.0.6', '10.244.0.7']);
    const head = plan([desiredService('10.96.0.1', ['10.244.0.1', '10.244.0.5', '10.244.0.6', '10.244.0.7'].map((address) => ({ address, drained: false })))], dumpModel(state), ctx());
    expect(head.ops.map((o) => o.op)).toEqual(['add-destination']);
    const tail = plan([desiredService('10.96.0.1', ['10.244.0.5', '10.244.0.6', '10.244.0.7', '10.244.0.9'].map((address) => ({ address, drained: false })))], dumpModel(state), ctx());
    expect(tail.ops.map((o) => o.op)).toEqual(['delete-destination', 'delete-destination', 'delete-destination', 'add-destination', 'add-destination', 'add-destination', 'add-destination']);
  });

  test('a weight change is one update, in place', () => {
    const state = start(['10.244.0.5', '10.244.0.6']);
    const want = desiredService('10.96.0.1', [{ address: '10.244.0.5', drained: true }, { address: '10.244.0.6', drained: false }]);
    expect(plan([want], dumpModel(state), ctx()).ops).toEqual([
      { op: 'update-destination', service: key('10.96.0.1'), destination: { address: '10.244.0.5', port: 80, forwarding: 'tunnel', weight: 0 } },
    ]);
  });

  test('a scheduler change updates the service', () => {
    const state = start(['10.244.0.5']);
    const want = desiredService('10.96.0.1', [{ address: '10.244.0.5', drained: false }], 'rr');
    expect(plan([want], dumpModel(state), ctx()).ops.map((o) => o.op)).toEqual(['update-service']);
  });

  test('a leaving destination with connections drains (weight 0) until idle or the drain period ends', () => {
    const state = start(['10.244.0.5', '10.244.0.6']);
    const busy = dumpModel(state).map((s) => ({ ...s, destinations: s.destinations.map((d) => (d.address === '10.244.0.6' ? { ...d, activeConnections: 3 } : d)) }));
    const want = [desiredService('10.96.0.1', [{ address: '10.244.0.5', drained: false }])];
    const first = plan(want, busy, ctx(new Map(), 1_000_000));
    expect(first.ops.map((o) => [o.op, o.op === 'update-destination' || o.op === 'add-destination' ? o.destination.weight : ''])).toEqual([['update-destination', 0]]);
    expect([...first.drainingSince.values()]).toEqual([1_000_000]);
    const drained = busy.map((s) => ({ ...s, destinations: s.destinations.map((d) => (d.address === '10.244.0.6' ? { ...d, weight: 0 } : d)) }));
    // still busy, 10 s later: nothing to do
    const second = plan(want, drained, ctx(first.drainingSince, 1_010_000));
    expect(second.ops).toEqual([]);
    // drain period (30 s) over: delete even though connections remain
    const third = plan(want, drained, ctx(second.drainingSince, 1_031_000));
    expect(third.ops.map((o) => o.op)).toEqual(['delete-destination']);
    expect(third.drainingSince.size).toBe(0);
  });

  test('a service that is no longer desired drains its destinations, then is deleted', () => {
    const state = start(['10.244.0.5']);
    const r1 = plan([], dumpModel(state), ctx());
    expect(r1.ops.map((o) => o.op)).toEqual(['update-destination']);
    const s1 = applyToModel(state, r1.ops);
    const r2 = plan([], dumpModel(s1), ctx(r1.drainingSince));
    expect(r2.ops.map((o) => o.op)).toEqual(['delete-destination', 'delete-service']);
  });
});

test('applyToModel never mutates its input (copy-on-write)', () => {
  const before = converge([], [desiredService('10.96.0.1', [{ address: '10.244.0.1', drained: false }])]).state;
  const snapshot = JSON.stringify(before);
  applyToModel(before, [
    { op: 'add-destination', service: key('10.96.0.1'), destination: { address: '10.244.0.2', port: 80, forwarding: 'tunnel', weight: 1 } },
    { op: 'update-service', service: { key: key('10.96.0.1'), scheduler: 'rr' } },
    { op: 'delete-service', service: key('10.96.0.1') },
  ]);
  expect(JSON.stringify(before)).toBe(snapshot);
});
