// ResolverMaps on the real kernel (root): maps created and pinned by the loader on a
// test-made cgroup and pin root; plans applied and dumped back; the atomic swap of a
// service's inner map; failures isolated; config, counters, memory, fill.
// No traffic is sent; nothing is attached anywhere but the cgroup this test creates.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createTestCgroup, createTestPinRoot, removeTestCgroup, removeTestPinRoot } from '@balanced/testkit';
import { BPF_F_INNER_MAP, MapHandle } from '../src/libbpf/maps.js';
import { BpfError } from '../src/libbpf/errors.js';
import { ResolverPrograms } from '../src/loader/resolver-programs.js';
import { BPF_MAP_TYPE, COUNTERS, MAP_NAMES, SERVICE_CHUNK_BYTES, encodeServiceTableBytes, encodeU32Key, decodeU32 } from '../src/maps/layout.js';
import { ResolverMaps } from '../src/maps/resolver-maps.js';
import { MapsMirror } from '../src/plan/index.js';
import type { BackendEntry, FrontendEntry, MapOp, MapsDump, Plan, ServiceTable } from '../src/model.js';
import { compactSlots } from './plan-helpers.js';

let cgroup: string | undefined;
let pinRoot: string | undefined;
let badRoot: string | undefined;
let programs: ResolverPrograms | undefined;
let maps: ResolverMaps;

const BACKENDS: ReadonlyMap<number, BackendEntry> = new Map([
  [1, { address: '10.1.0.1', port: 8080, local: true }],
  [2, { address: '10.1.0.2', port: 8080, local: false }],
  [3, { address: 'fd00::3', port: 443, local: false }],
]);

function table(backendIds: number[], size: number, extra: Partial<ServiceTable> = {}): ServiceTable {
  return {
    backendIds,
    slots: compactSlots(Array.from({ length: backendIds.length === 0 ? 0 : size }, (_, s) => s % backendIds.length), backendIds.length),
    flags: 0,
    affinityTimeoutSeconds: 0,
    revision: 1,
    skipCgroups: [],
    ...extra,
  };
}

const SERVICES: ReadonlyMap<number, ServiceTable> = new Map([
  [10, table([1, 2], 7, { flags: 0x1, affinityTimeoutSeconds: 10800 })],
  [11, table([], 0, { flags: 0x4 })],
  [12, table([3, 1, 2], 33)], // 33 slots: two slot chunks
]);

const FRONTENDS: readonly FrontendEntry[] = [
  { address: '10.96.0.10', port: 80, protocol: 'TCP', kind: 'service', serviceId: 10 },
  { address: '10.96.0.10', port: 80, protocol: 'TCP', kind: 'redirect', serviceId: 12 },
  { address: '10.96.0.11', port: 53, protocol: 'UDP', kind: 'service', serviceId: 11 },
  { address: 'fd00:96::12', port: 443, protocol: 'TCP', kind: 'balancing', serviceId: 12 },
];

function planOf(ops: MapOp[]): Plan {
  return { ops, removed: [], serviceIds: new Map() };
}

/** Frontends in a stable order, for comparisons. */
function sorted(fs: readonly FrontendEntry[]): FrontendEntry[] {
  return [...fs].sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
}

function expectDump(dump: MapsDump, want: { frontends: readonly FrontendEntry[]; services: ReadonlyMap<number, ServiceTable>; backends: ReadonlyMap<number, BackendEntry> }): void {
  expect(sorted(dump.frontends)).toEqual(sorted(want.frontends));
  expect(new Map([...dump.services].sort((a, b) => a[0] - b[0]))).toEqual(new Map([...want.services].sort((a, b) => a[0] - b[0])));
  expect(new Map([...dump.backends].sort((a, b) => a[0] - b[0]))).toEqual(new Map([...want.backends].sort((a, b) => a[0] - b[0])));
}

/** The inner map id bd_services holds for a service. */
function innerId(serviceId: number): number | undefined {
  const outer = MapHandle.pinned(join(pinRoot ?? '', 'bd_services'));
  try {
    const v = outer.lookup(encodeU32Key(serviceId));
    return v === undefined ? undefined : decodeU32(v);
  } finally {
    outer.close();
  }
}

beforeAll(async () => {
  cgroup = await createTestCgroup('bdm');
  pinRoot = await createTestPinRoot('bdm');
  programs = ResolverPrograms.attach({ pinRoot, cgroupPath: cgroup });
  maps = ResolverMaps.open(pinRoot);
});

afterAll(async () => {
  maps?.close();
  programs?.close();
  if (pinRoot !== undefined) {
    ResolverPrograms.detach(pinRoot);
    await removeTestPinRoot(pinRoot);
  }
  if (badRoot !== undefined) await removeTestPinRoot(badRoot);
  if (cgroup !== undefined) await removeTestCgroup(cgroup);
});

describe('ResolverMaps', () => {
  it('opens the pinned maps and starts empty', () => {
    expectDump(maps.dump(), { frontends: [], services: new Map(), backends: new Map() });
    expect(maps.fill()).toEqual({
      bd_frontends: { entries: 0, max: 262144 },
      bd_services: { entries: 0, max: 65536 },
      bd_backends: { entries: 0, max: 262144 },
    });
  });

  it('refuses a pinned map whose layout differs, naming it', async () => {
    badRoot = await createTestPinRoot('bdm');
    const bpftool = existsSync('/usr/sbin/bpftool') ? '/usr/sbin/bpftool' : 'bpftool';
    execFileSync(bpftool, ['map', 'create', join(badRoot, 'bd_frontends'), 'type', 'hash', 'key', '16', 'value', '4', 'entries', '1', 'name', 'bd_frontends'], { stdio: 'pipe' });
    try {
      ResolverMaps.open(badRoot);
      throw new Error('open succeeded');
    } catch (e) {
      expect(e).toBeInstanceOf(BpfError);
      expect((e as BpfError).code).toBe('BPF_MAP_LAYOUT');
      expect((e as BpfError).map).toBe('bd_frontends');
      expect((e as BpfError).message).toContain('key 16 B');
    }
  });

  it('applies a plan and dumps exactly it', () => {
    const report = maps.apply(
      planOf([
        ...[...BACKENDS].map(([id, backend]): MapOp => ({ op: 'backend-put', id, backend })),
        ...[...SERVICES].map(([id, t]): MapOp => ({ op: 'service-put', id, key: `svc-${id}`, table: t })),
        ...FRONTENDS.map((frontend): MapOp => ({ op: 'frontend-put', frontend })),
      ]),
    );
    expect(report.failed).toEqual([]);
    expect(report.skipped).toEqual([]);
    expect(report.applied).toBe(BACKENDS.size + SERVICES.size + FRONTENDS.length);
    // 1 backend batch + one fill per inner map + 1 batched swap + 1 frontend batch
    expect(report.writes).toBe(1 + SERVICES.size + 1 + 1);
    expectDump(maps.dump(), { frontends: FRONTENDS, services: SERVICES, backends: BACKENDS });
    expect(maps.fill()).toMatchObject({ bd_frontends: { entries: 4 }, bd_services: { entries: 3 }, bd_backends: { entries: 3 } });
  });

  it('one read: compared with a view of the maps without decoding a backend, it names one changed behind that view; decoded, it is the dump', () => {
    const mirror = MapsMirror.fromDump(maps.dump());
    const read = maps.read();
    expect(mirror.difference(read.view)).toBeUndefined();
    expectDump(read.dump(), { frontends: FRONTENDS, services: SERVICES, backends: BACKENDS });
    expect(read.dump()).toBe(read.dump());
    const moved: BackendEntry = { address: '10.1.0.2', port: 8081, local: false };
    expect(maps.apply(planOf([{ op: 'backend-put', id: 2, backend: moved }])).failed).toEqual([]);
    expect(mirror.difference(maps.read().view)).toBe(`backend 2: the maps hold ${JSON.stringify(moved)}; the agent's view ${JSON.stringify(BACKENDS.get(2))}`);
    expect(maps.apply(planOf([{ op: 'backend-put', id: 2, backend: BACKENDS.get(2)! }])).failed).toEqual([]);
    expect(mirror.difference(maps.read().view)).toBeUndefined();
  });

  it('swaps a changed table in as a new inner map; frontends stay', () => {
    const before = innerId(10);
    const other = innerId(12);
    const changed = table([1, 3], 11, { revision: 2 });
    const report = maps.apply(planOf([{ op: 'service-put', id: 10, key: 'svc-10', table: changed }]));
    expect(report).toMatchObject({ applied: 1, failed: [], skipped: [], writes: 2 });
    const after = innerId(10);
    expect(after).toBeDefined();
    expect(after).not.toBe(before);
    expect(innerId(12)).toBe(other);
    const dump = maps.dump();
    expect(sorted(dump.frontends)).toEqual(sorted(FRONTENDS));
    expect(dump.services.get(10)).toEqual(changed);
    expect(dump.backends).toEqual(BACKENDS);
  });

  it('freezes each table it makes; a dump takes those from memory, and reads (then freezes) one it did not make', () => {
    /** Writes an inner map's first value back as it is: 'written', or the errno. */
    const writeInto = (id: number): unknown => {
      const inner = MapHandle.byId(id);
      try {
        inner.update(encodeU32Key(0), inner.lookup(encodeU32Key(0)) as Uint8Array);
        return 'written';
      } catch (e) {
        return e instanceof BpfError ? e.errno : e;
      } finally {
        inner.close();
      }
    };
    expect(writeInto(innerId(10) as number)).toBe(1); // EPERM: frozen
    const written = maps.dump().services.get(10);
    expect(maps.dump().services.get(10)).toBe(written); // the same object: not read again

    // A table made by someone else (an agent from before freezing): swapped in by hand, not frozen.
    const foreign = table([2], 5, { revision: 7 });
    const bytes = encodeServiceTableBytes(foreign);
    const count = bytes.byteLength / SERVICE_CHUNK_BYTES;
    const inner = MapHandle.create({ type: BPF_MAP_TYPE.ARRAY, name: 'bd_svc_test', keySize: 4, valueSize: SERVICE_CHUNK_BYTES, maxEntries: count, flags: BPF_F_INNER_MAP });
    const outer = MapHandle.pinned(join(pinRoot ?? '', 'bd_services'));
    try {
      const keys = new Uint8Array(4 * count);
      for (let i = 0; i < count; i++) keys.set(encodeU32Key(i), 4 * i);
      expect(inner.updatePacked(keys, bytes).failed).toEqual([]);
      outer.update(encodeU32Key(11), encodeU32Key(inner.fd));
    } finally {
      outer.close();
      inner.close();
    }
    const foreignId = innerId(11) as number;
    expect(writeInto(foreignId)).toBe('written'); // not frozen: it could change under us
    expect(maps.dump().services.get(11)).toEqual(table([2], 5, { revision: 7 }));
    expect(writeInto(foreignId)).toBe(1); // frozen by that read
    maps.apply(planOf([{ op: 'service-put', id: 11, key: 'svc-11', table: SERVICES.get(11) as ServiceTable }])); // as the other tests expect
  });

  it('isolates failures and skips what depends on them', () => {
    const badBackend: MapOp = { op: 'backend-put', id: 5, backend: { address: '10.1.0.5', port: 70000, local: false } };
    const goodBackend: MapOp = { op: 'backend-put', id: 6, backend: { address: '10.1.0.6', port: 80, local: false } };
    const needsBad: MapOp = { op: 'service-put', id: 13, key: 'svc-13', table: table([5, 6], 3) };
    const oversized: MapOp = { op: 'service-put', id: 2 ** 32, key: 'svc-big', table: table([6], 3) };
    // service 10 (table [1, 3]) fails to publish: slot 0 names backend index 2 of 2.
    const badTable: MapOp = { op: 'service-put', id: 10, key: 'svc-10', table: { ...table([1, 3], 3), slots: Uint16Array.of(2, 0, 1) } };
    const good: MapOp = { op: 'service-put', id: 14, key: 'svc-14', table: table([6], 5) };
    const toUnpublished: MapOp = { op: 'frontend-put', frontend: { address: '10.96.0.13', port: 80, protocol: 'TCP', kind: 'service', serviceId: 13 } };
    // The UDP frontend of service 11 moves to 13 (skipped), so deleting 11 must be skipped too.
    const moveFrom11: MapOp = { op: 'frontend-put', frontend: { address: '10.96.0.11', port: 53, protocol: 'UDP', kind: 'service', serviceId: 13 } };
    const toGood: MapOp = { op: 'frontend-put', frontend: { address: '10.96.0.14', port: 80, protocol: 'TCP', kind: 'service', serviceId: 14 } };
    const unknown = { op: 'frontend-rename' } as unknown as MapOp;
    const delete11: MapOp = { op: 'service-delete', id: 11 };
    const deleteStillUsed: MapOp = { op: 'backend-delete', id: 3 }; // named by service 10's current table
    const deleteAbsent: MapOp = { op: 'backend-delete', id: 99 };

    const report = maps.apply(
      planOf([badBackend, goodBackend, needsBad, oversized, badTable, good, toUnpublished, moveFrom11, toGood, unknown, delete11, deleteStillUsed, deleteAbsent]),
    );
    expect(report.failed.map((f) => f.op)).toEqual([badBackend, oversized, badTable, unknown]);
    expect(report.failed.map((f) => f.error.name)).toEqual(['LayoutError', 'LayoutError', 'LayoutError', 'BpfError']);
    expect(report.skipped).toEqual([needsBad, toUnpublished, moveFrom11, delete11, deleteStillUsed]);
    expect(report.applied).toBe(4); // goodBackend, good, toGood, deleteAbsent (already absent)

    const dump = maps.dump();
    expect(dump.backends.has(5)).toBe(false);
    expect(dump.backends.get(6)).toEqual({ address: '10.1.0.6', port: 80, local: false });
    expect(dump.backends.has(3)).toBe(true);
    expect([...dump.services.keys()].sort((a, b) => a - b)).toEqual([10, 11, 12, 14]);
    expect(dump.services.get(10)?.backendIds).toEqual([1, 3]); // the old table stays
    expect(dump.frontends).toContainEqual({ address: '10.96.0.11', port: 53, protocol: 'UDP', kind: 'service', serviceId: 11 });
    expect(dump.frontends).toContainEqual(toGood.op === 'frontend-put' ? toGood.frontend : undefined);
  });

  it('refuses a plan out of publish order before writing anything', () => {
    const writesBefore = maps.fill();
    expect(() =>
      maps.apply(planOf([{ op: 'backend-delete', id: 6 }, { op: 'backend-put', id: 7, backend: { address: '10.1.0.7', port: 1, local: false } }])),
    ).toThrow(expect.objectContaining({ code: 'BPF_MAP_PLAN' }));
    expect(maps.fill()).toEqual(writesBefore);
  });

  it('writes many backends in chunked batches', () => {
    const ids = Array.from({ length: 5000 }, (_, i) => 1000 + i);
    const put = maps.apply(planOf(ids.map((id): MapOp => ({ op: 'backend-put', id, backend: { address: `10.2.${id >> 8}.${id & 255}`, port: 9000, local: false } }))));
    expect(put).toMatchObject({ applied: 5000, failed: [], skipped: [], writes: 2 }); // 4096 + 904
    expect(maps.dump().backends.size).toBe(4 + 5000); // 1, 2, 3, 6 and these
    const del = maps.apply(planOf(ids.map((id): MapOp => ({ op: 'backend-delete', id }))));
    expect(del).toMatchObject({ applied: 5000, failed: [], writes: 2 });
  });

  it('writes the config only when it differs', () => {
    const config = { hostNetnsCookie: 0x1234_5678_9abcn, hostNetnsOnly: true, events: false };
    expect(maps.writeConfig(config)).toBe(true);
    expect(maps.writeConfig(config)).toBe(false);
    expect(maps.readConfig()).toEqual(config);
    expect(maps.writeConfig({ ...config, events: true })).toBe(true);
    expect(maps.readConfig().events).toBe(true);
  });

  it('sums the per-CPU counters (no traffic: all zero)', () => {
    const counters = maps.counters();
    expect(Object.keys(counters).sort()).toEqual(Object.keys(COUNTERS).sort());
    for (const value of Object.values(counters)) expect(value).toBe(0n);
  });

  it('reports the kernel memory of every map and inner map', () => {
    const memory = maps.memory();
    expect(Object.keys(memory.byMap).sort()).toEqual([...MAP_NAMES].sort());
    for (const bytes of Object.values(memory.byMap)) expect(bytes).toBeGreaterThan(0);
    expect(memory.innerMaps).toBe(4);
    // An inner map costs its 64-byte chunks plus a fixed overhead.
    expect(memory.innerBytes).toBeGreaterThan(4 * 64);
    expect(memory.innerBytes).toBeLessThan(4 * 4096);
    expect(memory.totalBytes).toBe(Object.values(memory.byMap).reduce((a, b) => a + b, 0) + memory.innerBytes);
    // Read again: the same (tables already seen are not opened again).
    expect(maps.memory()).toEqual(memory);
    // A service-put swaps in a new inner map: a bigger table is counted at its new size.
    const [id, before] = [...maps.dump().services].find(([, t]) => t.backendIds.length > 0) as [number, ServiceTable];
    const bigger = table([...before.backendIds], 4093, { revision: before.revision + 1 });
    expect(maps.apply(planOf([{ op: 'service-put', id, key: `svc-${id}`, table: bigger }])).failed).toEqual([]);
    const after = maps.memory();
    expect(after.innerMaps).toBe(4);
    expect(after.innerBytes).toBeGreaterThan(memory.innerBytes + 4000);
    expect(maps.apply(planOf([{ op: 'service-put', id, key: `svc-${id}`, table: { ...before, revision: before.revision + 2 } }])).failed).toEqual([]);
    expect(maps.memory().innerBytes).toBe(memory.innerBytes);
  });

  it('one pass of writes over several plans: backends at once, tables and their frontends at finish, deletions after what waits', () => {
    const backend: MapOp = { op: 'backend-put', id: 40, backend: { address: '10.4.0.40', port: 80, local: false } };
    const put = (id: number): MapOp => ({ op: 'service-put', id, key: `svc-${id}`, table: table([40], 5) });
    const front = (id: number): FrontendEntry => ({ address: `10.96.4.${id}`, port: 80, protocol: 'TCP', kind: 'service', serviceId: id });
    const pass = maps.beginPass();
    try {
      const first = pass.apply(planOf([backend, put(41), { op: 'frontend-put', frontend: front(41) }]));
      // The backend is written; the table is made (filled, frozen) but waits, its frontend too.
      expect(first).toMatchObject({ applied: 1, failed: [], skipped: [], writes: 1 });
      let dump = maps.dump();
      expect(dump.backends.get(40)).toEqual({ address: '10.4.0.40', port: 80, local: false });
      expect(innerId(41)).toBeUndefined();
      expect(dump.frontends).not.toContainEqual(front(41));
      const second = pass.apply(planOf([put(42), { op: 'frontend-put', frontend: front(42) }]));
      expect(second).toMatchObject({ applied: 0, failed: [], skipped: [] });
      expect(innerId(42)).toBeUndefined();
      // A deletion writes everything waiting first (the frontend it deletes may be one of them).
      const third = pass.apply(planOf([{ op: 'frontend-delete', frontend: front(41) }]));
      // 2 tables + 2 frontends + 1 delete; their inner fills, 1 swap, 1 frontend batch, 1 delete batch
      expect(third).toMatchObject({ applied: 5, failed: [], skipped: [], writes: 2 + 1 + 1 + 1 });
      dump = maps.dump();
      expect(dump.services.get(41)).toEqual(table([40], 5));
      expect(dump.services.get(42)).toEqual(table([40], 5));
      expect(dump.frontends).not.toContainEqual(front(41));
      expect(dump.frontends).toContainEqual(front(42));
      expect(pass.finish()).toMatchObject({ applied: 0, writes: 0 });
    } finally {
      pass.close();
    }
  });

  it('swaps what waits once as many tables wait as it may hold; close drops what still waits, unwritten', () => {
    const held = ResolverMaps.open(pinRoot as string, { maxHeldTables: 2 });
    const put = (id: number): MapOp => ({ op: 'service-put', id, key: `svc-${id}`, table: table([40], 3) });
    const front = (id: number): FrontendEntry => ({ address: `10.96.5.${id}`, port: 80, protocol: 'TCP', kind: 'service', serviceId: id });
    const pass = held.beginPass();
    try {
      pass.apply(planOf([put(51), put(52), put(53), ...[51, 52, 53].map((id): MapOp => ({ op: 'frontend-put', frontend: front(id) }))]));
      // 51 and 52 were swapped in when two waited; 53 and every frontend wait.
      expect(innerId(51)).toBeDefined();
      expect(innerId(52)).toBeDefined();
      expect(innerId(53)).toBeUndefined();
      expect(held.dump().frontends.filter((f) => f.address.startsWith('10.96.5.'))).toEqual([]);
    } finally {
      pass.close();
    }
    expect(innerId(53)).toBeUndefined();
    expect(held.dump().frontends.filter((f) => f.address.startsWith('10.96.5.'))).toEqual([]);
    // What was swapped in stays (nothing names it: the next whole pass deletes it).
    const cleanup = held.apply(planOf([51, 52].map((id): MapOp => ({ op: 'service-delete', id }))));
    expect(cleanup).toMatchObject({ applied: 2, failed: [], skipped: [] });
    held.close();
    expect(() => ResolverMaps.open(pinRoot as string, { maxHeldTables: 0 })).toThrow(RangeError);
  });

  it('deletes everything it was given, in publish order', () => {
    const dump = maps.dump();
    const report = maps.apply(
      planOf([
        ...dump.frontends.map((frontend): MapOp => ({ op: 'frontend-delete', frontend })),
        ...[...dump.services.keys()].map((id): MapOp => ({ op: 'service-delete', id })),
        ...[...dump.backends.keys()].map((id): MapOp => ({ op: 'backend-delete', id })),
      ]),
    );
    expect(report.failed).toEqual([]);
    expect(report.skipped).toEqual([]);
    expectDump(maps.dump(), { frontends: [], services: new Map(), backends: new Map() });
    expect(maps.memory().innerMaps).toBe(0);
  });
});
