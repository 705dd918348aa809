// Generators and oracles for the planner's tests: desired states, dumps (fresh, drifted or
// corrupt), and an independent reading of what a dump resolves to.
import fc from 'fast-check';
import { expect } from '@jest/globals';
import type { BackendEntry, DesiredBackend, DesiredFrontend, DesiredService, DesiredState, FrontendEntry, MapsDump, Plan, Protocol, ServiceTable } from '../src/model.js';
import { PUBLISH_ORDER, newSlotArray, type SlotArray } from '../src/model.js';
import { applyToDump, createTableBuilder, planMaps } from '../src/plan/index.js';

type Arb<T> = fc.Arbitrary<T>;

export const EMPTY_DUMP: MapsDump = { frontends: [], services: new Map(), backends: new Map() };

const BACKEND_ADDRESSES = ['10.0.0.1', '10.0.0.2', '10.0.0.3', '10.0.0.4', 'fd00::a', 'fd00::b'];
const BACKEND_PORTS = [80, 8080];
const FRONTEND_ADDRESSES = ['10.96.0.1', '10.96.0.2', '127.0.0.1', 'fd00::1'];
const FRONTEND_PORTS = [80, 443, 30080];
export const SERVICE_KEYS = ['a/s1:http/TCP IPv4', 'a/s1:http/TCP IPv4 node-local', 'a/s2:80/UDP IPv4', 'b/s3:dns/UDP IPv6', 'b/s4:http/TCP IPv4'];

/** `local` is a function of the address (one node's view), as the builder's output is for one backend. */
const isLocal = (address: string): boolean => address.endsWith('1') || address.endsWith('a');

export const backendArb: Arb<DesiredBackend> = fc
  .record({ address: fc.constantFrom(...BACKEND_ADDRESSES), port: fc.constantFrom(...BACKEND_PORTS), weight: fc.constantFrom(1, 1, 1, 0, 2, 3) })
  .map((b) => ({ ...b, local: isLocal(b.address) }));

export function serviceArb(key: string): Arb<DesiredService> {
  return fc
    .record({
      backends: fc.uniqueArray(backendArb, { selector: (b) => `${b.address} ${b.port}`, maxLength: 6 }),
      affinity: fc.option(fc.constantFrom(1, 60, 10800), { nil: undefined }),
      refuseWhenEmpty: fc.boolean(),
      localOnly: fc.boolean(),
    })
    .map(({ backends, affinity, refuseWhenEmpty, localOnly }) => ({
      key,
      backends,
      options: { ...(affinity === undefined ? {} : { affinityTimeoutSeconds: affinity }), refuseWhenEmpty, localOnly },
    }));
}

/** A desired state: some of SERVICE_KEYS, frontends (unique keys) spread over them. */
export const desiredArb: Arb<DesiredState> = fc
  .subarray(SERVICE_KEYS, { minLength: 0 })
  .chain((keys) =>
    fc.tuple(
      fc.tuple(...keys.map(serviceArb)),
      keys.length === 0
        ? fc.constant([] as DesiredFrontend[])
        : fc.uniqueArray(
            fc.record({
              address: fc.constantFrom(...FRONTEND_ADDRESSES),
              port: fc.constantFrom(...FRONTEND_PORTS),
              protocol: fc.constantFrom<Protocol>('TCP', 'UDP'),
              kind: fc.constant('service' as const),
              service: fc.constantFrom(...keys),
            }),
            { selector: (f) => `${f.address} ${f.port} ${f.protocol}`, maxLength: 8 },
          ),
    ),
  )
  .map(([services, frontends]) => ({ services: new Map(services.map((s) => [s.key, s])), frontends, refusals: [] }));

/** What the maps hold after a clean publish of `desired` (a consistent dump). */
export function publish(desired: DesiredState, from: MapsDump = EMPTY_DUMP): MapsDump {
  return applyToDump(from, planMaps(desired, from));
}

/** A dump after drift: entries deleted, retargeted, added by hand, tables and flags changed. */
export function driftArb(dump: MapsDump): Arb<MapsDump> {
  const ids = [0, 1, 2, 3, 4, 5, 9, 40];
  const edit = fc.oneof(
    fc.record({ t: fc.constant('drop-frontend' as const), i: fc.nat() }),
    fc.record({ t: fc.constant('retarget-frontend' as const), i: fc.nat(), id: fc.constantFrom(...ids) }),
    fc.record({ t: fc.constant('stray-frontend' as const), address: fc.constantFrom(...FRONTEND_ADDRESSES, '10.99.0.1'), port: fc.constantFrom(...FRONTEND_PORTS), id: fc.constantFrom(...ids) }),
    fc.record({ t: fc.constant('drop-service' as const), id: fc.constantFrom(...ids) }),
    fc.record({ t: fc.constant('stray-service' as const), id: fc.constantFrom(...ids), backendIds: fc.array(fc.constantFrom(...ids), { maxLength: 3 }), revision: fc.nat(5) }),
    fc.record({ t: fc.constant('bump-revision' as const), id: fc.constantFrom(...ids) }),
    fc.record({ t: fc.constant('flags' as const), id: fc.constantFrom(...ids), flags: fc.nat(7) }),
    fc.record({ t: fc.constant('slots' as const), id: fc.constantFrom(...ids) }),
    fc.record({ t: fc.constant('stray-backend' as const), id: fc.constantFrom(...ids, 7), backend: backendArb }),
    fc.record({ t: fc.constant('flip-local' as const), id: fc.constantFrom(...ids) }),
    fc.record({ t: fc.constant('drop-backend' as const), id: fc.constantFrom(...ids) }),
  );
  return fc.array(edit, { maxLength: 5 }).map((edits) => {
    let frontends: FrontendEntry[] = [...dump.frontends];
    const services = new Map<number, ServiceTable>(dump.services);
    const backends = new Map<number, BackendEntry>(dump.backends);
    for (const e of edits) {
      switch (e.t) {
        case 'drop-frontend':
          if (frontends.length > 0) frontends.splice(e.i % frontends.length, 1);
          break;
        case 'retarget-frontend': {
          const f = frontends[e.i % Math.max(1, frontends.length)];
          if (f !== undefined) frontends = frontends.map((x) => (x === f ? { ...f, serviceId: e.id } : x));
          break;
        }
        case 'stray-frontend':
          frontends = frontends.filter((f) => !(f.address === e.address && f.port === e.port && f.protocol === 'TCP'));
          frontends.push({ address: e.address, port: e.port, protocol: 'TCP', kind: 'service', serviceId: e.id });
          break;
        case 'drop-service':
          services.delete(e.id);
          break;
        case 'stray-service':
          services.set(e.id, { backendIds: e.backendIds, slots: Uint16Array.from(e.backendIds.map((_, i) => i)), flags: 4, affinityTimeoutSeconds: 0, revision: e.revision, skipCgroups: [] });
          break;
        case 'bump-revision': {
          const t = services.get(e.id);
          if (t !== undefined) services.set(e.id, { ...t, revision: t.revision + 7 });
          break;
        }
        case 'flags': {
          const t = services.get(e.id);
          if (t !== undefined) services.set(e.id, { ...t, flags: e.flags });
          break;
        }
        case 'slots': {
          const t = services.get(e.id);
          if (t !== undefined && t.slots.length > 1) services.set(e.id, { ...t, slots: Uint16Array.from(t.slots, (x, i) => (i === 0 ? t.slots[1]! : x)) });
          if (t !== undefined && t.slots.length > 1 && t.slots[0] === t.slots[1]) services.set(e.id, { ...t, slots: t.slots.subarray(1) });
          break;
        }
        case 'stray-backend':
          backends.set(e.id, { address: e.backend.address, port: e.backend.port, local: e.backend.local });
          break;
        case 'flip-local': {
          const b = backends.get(e.id);
          if (b !== undefined) backends.set(e.id, { ...b, local: !b.local });
          break;
        }
        case 'drop-backend':
          backends.delete(e.id);
          break;
      }
    }
    return { frontends, services, backends };
  });
}

const flagsOf = (s: DesiredService): number =>
  (s.options.affinityTimeoutSeconds === undefined ? 0 : 1) | (s.options.localOnly ? 2 : 0) | (s.options.refuseWhenEmpty ? 4 : 0);

const sortedText = (xs: Iterable<string>): string[] => [...xs].sort();

/**
 * The dump resolves exactly what is desired: every desired frontend (and no other) maps to a
 * table listing the desired backends (all of them, `local` as any service says), whose slots
 * name exactly the weight > 0 ones, with the desired flags and timeout; no other table or
 * backend is left.
 */
export function expectResolves(dump: MapsDump, desired: DesiredState): void {
  const localOf = new Map<string, boolean>();
  const published = [...desired.services.values()].filter((s) => desired.frontends.some((f) => f.service === s.key));
  for (const s of published) for (const b of s.backends) localOf.set(`${b.address} ${b.port}`, (localOf.get(`${b.address} ${b.port}`) ?? false) || b.local);
  const key = (f: { address: string; port: number; protocol: string; kind: string }): string => `${f.kind} ${f.protocol} ${f.address} ${f.port}`;
  expect(sortedText(dump.frontends.map(key))).toEqual(sortedText(desired.frontends.map(key)));
  const usedIds = new Set<number>();
  for (const f of desired.frontends) {
    const entry = dump.frontends.find((e) => key(e) === key(f));
    const table = entry === undefined ? undefined : dump.services.get(entry.serviceId);
    const service = desired.services.get(f.service) as DesiredService;
    expect(table).toBeDefined();
    if (table === undefined || entry === undefined) return;
    usedIds.add(entry.serviceId);
    const listed = table.backendIds.map((id) => dump.backends.get(id));
    expect(listed.every((b) => b !== undefined)).toBe(true);
    const text = (b: BackendEntry | undefined): string => (b === undefined ? '?' : `${b.address} ${b.port} ${b.local}`);
    expect(sortedText(listed.map(text))).toEqual(sortedText(service.backends.map((b) => `${b.address} ${b.port} ${localOf.get(`${b.address} ${b.port}`) ?? false}`)));
    const slotted = new Set<string>();
    for (const s of table.slots) slotted.add(text(listed[s]));
    expect(sortedText(slotted)).toEqual(sortedText(service.backends.filter((b) => b.weight > 0).map((b) => `${b.address} ${b.port} ${localOf.get(`${b.address} ${b.port}`) ?? false}`)));
    // the very table @balanced/maglev builds for the desired backends, slot for slot
    const reference = createTableBuilder()(service.backends);
    expect(Array.from(table.slots, (i) => text(listed[i]).split(' ').slice(0, 2).join(' '))).toEqual(
      Array.from(reference.slots, (i) => `${reference.backends[i]!.address} ${reference.backends[i]!.port}`),
    );
    expect(table.flags).toBe(flagsOf(service));
    expect(table.affinityTimeoutSeconds).toBe(service.options.affinityTimeoutSeconds ?? 0);
  }
  // Nothing else left behind: one table per desired service, backends only those listed.
  expect(dump.services.size).toBe(new Set(desired.frontends.map((f) => f.service)).size);
  const listedIds = new Set([...dump.services.values()].flatMap((t) => [...t.backendIds]));
  expect(sortedText([...dump.backends.keys()].map(String))).toEqual(sortedText([...listedIds].map(String)));
}

/** Op kinds in PUBLISH_ORDER; a service-put names only backends in the dump or put before it. */
export function expectPublishOrder(plan: Plan, before: MapsDump): void {
  const rank = plan.ops.map((o) => PUBLISH_ORDER.indexOf(o.op));
  expect(rank).toEqual([...rank].sort((a, b) => a - b));
  const known = new Set(before.backends.keys());
  for (const op of plan.ops) {
    if (op.op === 'backend-put') known.add(op.id);
    if (op.op === 'service-put') for (const id of op.table.backendIds) expect(known.has(id)).toBe(true);
  }
}

/** Between any two ops, every frontend resolves to a table and every table names present backends. */
export function expectConsistentThroughout(plan: Plan, before: MapsDump): void {
  let dump = before;
  for (const op of plan.ops) {
    dump = applyToDump(dump, { ops: [op] });
    for (const f of dump.frontends) expect(dump.services.has(f.serviceId)).toBe(true);
    for (const t of dump.services.values()) for (const id of t.backendIds) expect(dump.backends.has(id)).toBe(true);
  }
}

/** A table's slots from plain indices, in the width the maps' codec reads them (tests' fixtures). */
export function compactSlots(slots: ArrayLike<number>, count: number): SlotArray {
  const out = newSlotArray(count, slots.length);
  for (let i = 0; i < slots.length; i++) out[i] = slots[i] as number;
  return out;
}
