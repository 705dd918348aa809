// The resolver's pinned maps: open them, dump them into the model, apply a Plan in publish
// order with failures isolated, and read the kernel's counters and memory accounting.
import { endianness } from 'node:os';
import { join } from 'node:path';
import { BPF_F_INNER_MAP, MapHandle, type BatchResult } from '../libbpf/maps.js';
import { BpfError } from '../libbpf/errors.js';
import type { BackendEntry, FrontendEntry, MapOp, MapsDump, Plan, ServiceTable } from '../model.js';
import { PUBLISH_ORDER } from '../model.js';
import {
  BPF_MAP_TYPE,
  CNT_MAX,
  COUNTERS,
  MAP_NAMES,
  MAP_SPECS,
  SERVICE_CHUNK_BYTES,
  decodeBackendValue,
  decodeFrontendKey,
  decodeFrontendValue,
  decodeResolverConfig,
  decodeServiceTableBytes,
  decodeU32,
  encodeBackendValueInto,
  BACKEND_VALUE,
  encodeFrontendKey,
  encodeFrontendValue,
  encodeResolverConfig,
  encodeServiceTableBytes,
  encodeU32Key,
  encodeU32KeyInto,
  type CounterName,
  type ResolverConfig,
  type ResolverMapName,
} from './layout.js';

/** What one apply() did. */
export interface ApplyReport {
  /** Ops whose write succeeded (a delete of an already absent key counts as applied). */
  applied: number;
  failed: { op: MapOp; error: Error }[];
  /** Ops not attempted because an op they depend on failed (see ResolverMaps.apply). */
  skipped: MapOp[];
  /** Syscalls that changed a map (a batch call counts once; filling an inner map counts). */
  writes: number;
  ms: number;
}

/** Kernel-charged memory (fdinfo `memlock`), bytes. */
export interface MemoryReport {
  /** Every pinned map by name (`bd_services`: the outer map only). */
  byMap: Record<string, number>;
  /** How many inner service maps. */
  innerMaps: number;
  /** Their bytes together. */
  innerBytes: number;
  totalBytes: number;
}

/** Entries in use and max_entries. */
export interface MapFill {
  entries: number;
  max: number;
}

/** How often a dump retries an inner map that was swapped between reading its id and opening it. */
const INNER_RETRIES = 3;
const ENOENT = 2;
/**
 * Inner maps built before one batched swap into bd_services (bounds the fds we hold): a step
 * of the agent's pass (about 500 services) is one swap call, one RCU grace period (~4 ms).
 */
const SWAP_BATCH = 512;

/** Name of a service's inner map (≤ 15 characters: `bd_svc_` + up to 8 hex digits). */
export function innerMapName(serviceId: number): string {
  return `bd_svc_${serviceId.toString(16)}`;
}

/** The pinned maps of one resolver installation (`<pinRoot>/<map name>`). Close it when done. */
export class ResolverMaps {
  /** fdinfo memlock of each inner map seen by memory(), by map id (ids are not reused while a map lives). */
  private innerMemlock = new Map<number, number>();
  /**
   * The table of each frozen inner map, by map id: one this agent filled and froze, or read
   * and froze. A frozen map cannot change (BPF_MAP_FREEZE: no syscall writes it, and the
   * programs only read tables), so dump() takes its table from here instead of reading it.
   * Kept to the ids bd_services names at the last dump (and those swapped in since).
   */
  private frozenTables = new Map<number, ServiceTable>();

  private constructor(private readonly maps: Readonly<Record<ResolverMapName, MapHandle>>) {}

  /**
   * Open every pinned map and check its type, key and value size against layout.ts.
   * Throws BpfError BPF_MAP_LAYOUT naming the map when they differ, BPF_MAP_OP when a pin
   * cannot be opened.
   */
  static open(pinRoot: string): ResolverMaps {
    if (endianness() !== 'LE') throw new Error('the map codecs assume a little-endian host (x86-64)');
    const opened: Partial<Record<ResolverMapName, MapHandle>> = {};
    try {
      for (const name of MAP_NAMES) {
        const handle = MapHandle.pinned(join(pinRoot, name), name);
        opened[name] = handle;
        const spec = MAP_SPECS[name];
        const info = handle.info;
        if (info.type !== spec.type || info.keySize !== spec.keySize || info.valueSize !== spec.valueSize) {
          throw new BpfError({
            code: 'BPF_MAP_LAYOUT',
            op: `open ${name}`,
            map: name,
            detail:
              `kernel: type ${info.type}, key ${info.keySize} B, value ${info.valueSize} B; ` +
              `layout.ts: type ${spec.type}, key ${spec.keySize} B, value ${spec.valueSize} B`,
          });
        }
      }
      return new ResolverMaps(opened as Record<ResolverMapName, MapHandle>);
    } catch (e) {
      for (const handle of Object.values(opened)) handle.close();
      throw e;
    }
  }

  /** fd of a pinned map (e.g. bd_events for a ring buffer reader); valid until close(). */
  fd(name: ResolverMapName): number {
    return this.maps[name].fd;
  }

  /** Everything the planner diffs against: frontends, every service's table, backends. */
  dump(): MapsDump {
    // Read packed and decoded from views: no two arrays per entry (100,000 backends at 10,000 Services).
    const frontends: FrontendEntry[] = [];
    forEachPacked(this.maps.bd_frontends, (k, v) => frontends.push({ ...decodeFrontendKey(k), serviceId: decodeFrontendValue(v) }));
    const services = new Map<number, ServiceTable>();
    const frozen = new Map<number, ServiceTable>();
    forEachPacked(this.maps.bd_services, (k, v) => {
      const innerId = decodeU32(v, 'bd_services value');
      const kept = this.frozenTables.get(innerId);
      const read = kept !== undefined ? { id: innerId, table: kept, frozen: true } : this.readService(k.slice(), innerId);
      if (read === undefined) return;
      services.set(decodeU32(k, 'bd_services key'), read.table);
      if (read.frozen) frozen.set(read.id, read.table);
    });
    this.frozenTables = frozen;
    const backends = new Map<number, BackendEntry>();
    forEachPacked(this.maps.bd_backends, (k, v) => backends.set(decodeU32(k, 'bd_backends key'), decodeBackendValue(v)));
    return { frontends, services, backends };
  }

  /**
   * One service's table (and the id of the inner map it was read from, which is frozen then
   * unless that failed); undefined when the service disappeared meanwhile.
   */
  private readService(key: Uint8Array, innerId: number): { readonly id: number; readonly table: ServiceTable; readonly frozen: boolean } | undefined {
    let id = innerId;
    for (let attempt = 0; ; attempt++) {
      let inner: MapHandle;
      try {
        inner = MapHandle.byId(id, innerMapName(decodeU32(key)));
      } catch (e) {
        // Swapped or deleted between the outer read and here: read the outer entry again.
        if (!(e instanceof BpfError && e.errno === ENOENT) || attempt >= INNER_RETRIES) throw e;
        const current = this.maps.bd_services.lookup(key);
        if (current === undefined) return undefined;
        id = decodeU32(current);
        continue;
      }
      try {
        const table = decodeServiceTableBytes(innerValues(inner));
        // Tables from before freezing (an older agent) are frozen on first read: nothing writes them.
        let frozen = true;
        try {
          inner.freeze();
        } catch {
          frozen = false; // read again at the next dump
        }
        return { id, table, frozen };
      } finally {
        inner.close();
      }
    }
  }

  /** Backend ids a service's current table names; undefined when it has none. */
  private currentBackendIds(serviceId: number): readonly number[] | undefined {
    if (!Number.isInteger(serviceId) || serviceId < 1 || serviceId > 0xffff_ffff) return undefined; // cannot be a key
    const key = encodeU32Key(serviceId, 'service id', 1);
    const value = this.maps.bd_services.lookup(key);
    return value === undefined ? undefined : this.readService(key, decodeU32(value))?.table.backendIds;
  }

  /**
   * Apply a plan's ops strictly in their order (which must follow PUBLISH_ORDER, else a
   * BpfError BPF_MAP_PLAN is thrown before any write). Consecutive backend-put,
   * frontend-put, frontend-delete, service-delete and backend-delete ops are written in
   * batches. Each service-put builds a new inner map and fills it in one batch; then the
   * consecutive service-puts (up to 512) are swapped into bd_services by one batch update
   * (each element is one atomic swap; the kernel waits one RCU grace period per call, so
   * one call instead of one per service) and our fds are closed (the outer map holds the
   * inner maps).
   *
   * A failed op is recorded and the pass goes on; ops that depend on a failed one are
   * skipped (recorded, not attempted):
   * - service-put naming a backend whose backend-put failed (its slots would name a
   *   missing backend);
   * - frontend-put whose service's service-put failed or was skipped;
   * - service-delete of a service a frontend may still point at: the serviceId of a failed
   *   frontend-delete, or the current value of a frontend whose frontend-put failed or
   *   was skipped;
   * - backend-delete of a backend still named by a table that stays: the current table of
   *   a service whose service-put or service-delete failed or was skipped. If that table
   *   cannot be read, every backend-delete of the pass is skipped.
   * Encoding errors (an id or port out of range, an unknown op) fail just that op.
   */
  apply(plan: Plan): ApplyReport {
    const started = performance.now();
    checkOrder(plan.ops);
    const run = new ApplyRun(this.maps, (id) => this.currentBackendIds(id), (innerId, table) => this.frozenTables.set(innerId, table));
    const before = this.totalWrites();
    const ops = plan.ops;
    for (let i = 0; i < ops.length; ) {
      const kind = (ops[i] as MapOp).op;
      let j = i + 1;
      while (j < ops.length && (ops[j] as MapOp).op === kind) j++;
      run.group(ops.slice(i, j));
      i = j;
    }
    return {
      applied: run.applied,
      failed: run.failed,
      skipped: run.skipped,
      writes: this.totalWrites() - before + run.innerWrites,
      ms: performance.now() - started,
    };
  }

  private totalWrites(): number {
    return MAP_NAMES.reduce((sum, name) => sum + this.maps[name].writes, 0);
  }

  /** bd_config entry 0. */
  readConfig(): ResolverConfig {
    const value = this.maps.bd_config.lookup(encodeU32Key(0));
    if (value === undefined) throw new BpfError({ code: 'BPF_MAP_OP', op: 'lookup_elem bd_config', map: 'bd_config', errno: ENOENT });
    return decodeResolverConfig(value);
  }

  /** Write bd_config when it differs from `config`; true when it wrote. */
  writeConfig(config: ResolverConfig): boolean {
    const wanted = encodeResolverConfig(config);
    const key = encodeU32Key(0);
    const current = this.maps.bd_config.lookup(key);
    if (current !== undefined && Buffer.from(current).equals(wanted)) return false;
    this.maps.bd_config.update(key, wanted);
    return true;
  }

  /** Every named counter, summed over CPUs. */
  counters(): Record<CounterName, bigint> {
    const sums = new Array<bigint>(CNT_MAX).fill(0n);
    for (const [k, v] of this.maps.bd_counters.entries()) {
      const index = decodeU32(k);
      const view = new DataView(v.buffer, v.byteOffset, v.byteLength);
      let sum = 0n;
      for (let off = 0; off + 8 <= v.byteLength; off += 8) sum += view.getBigUint64(off, true);
      if (index < CNT_MAX) sums[index] = sum;
    }
    const out = {} as Record<CounterName, bigint>;
    for (const [name, index] of Object.entries(COUNTERS) as [CounterName, number][]) out[name] = sums[index] ?? 0n;
    return out;
  }

  /** Kernel-charged memory of every pinned map and every inner service map. */
  memory(): MemoryReport {
    const byMap: Record<string, number> = {};
    for (const name of MAP_NAMES) byMap[name] = this.maps[name].memlock();
    // An inner map never changes size after it is made, and a service-put swaps in a new one
    // (a new id): only ids not seen before are opened, so a scrape costs one batched read of
    // bd_services plus the tables changed since the last one.
    const known = this.innerMemlock;
    const live = new Map<number, number>();
    // Read packed: no two arrays per entry (10,000 tables, a scrape every few seconds).
    forEachPacked(this.maps.bd_services, (key, value) => {
      const id = decodeU32(value);
      const cached = known.get(id);
      if (cached !== undefined) {
        live.set(id, cached);
        return;
      }
      let inner: MapHandle;
      try {
        inner = MapHandle.byId(id, innerMapName(decodeU32(key)));
      } catch (e) {
        if (e instanceof BpfError && e.errno === ENOENT) return; // swapped meanwhile
        throw e;
      }
      try {
        live.set(id, inner.memlock());
      } finally {
        inner.close();
      }
    });
    this.innerMemlock = live;
    let innerBytes = 0;
    for (const bytes of live.values()) innerBytes += bytes;
    const totalBytes = Object.values(byMap).reduce((a, b) => a + b, 0) + innerBytes;
    return { byMap, innerMaps: live.size, innerBytes, totalBytes };
  }

  /** Entries in use / max_entries of the maps userspace fills. */
  fill(): Record<'bd_frontends' | 'bd_services' | 'bd_backends', MapFill> {
    // Counted from the packed read: no two arrays per entry (100,000 backends at 10,000 Services).
    const one = (m: MapHandle): MapFill => ({ entries: m.entriesPacked().count, max: m.info.maxEntries });
    return { bd_frontends: one(this.maps.bd_frontends), bd_services: one(this.maps.bd_services), bd_backends: one(this.maps.bd_backends) };
  }

  /** Close our fds; the pinned maps stay. Idempotent. */
  close(): void {
    for (const name of MAP_NAMES) this.maps[name].close();
  }
}

function checkOrder(ops: readonly MapOp[]): void {
  let last = 0;
  ops.forEach((op, i) => {
    const rank = PUBLISH_ORDER.indexOf(op.op);
    if (rank < 0) return; // an unknown op fails on its own, in place
    if (rank < last) {
      throw new BpfError({ code: 'BPF_MAP_PLAN', op: 'apply', map: '', detail: `op ${i} (${op.op}) comes after a later kind of op: not in publish order` });
    }
    last = rank;
  });
}

function u32(value: number, field: string, min = 0): Uint8Array {
  return encodeU32Key(value, field, min);
}

/** Keys 0, 1, … of an inner map's entries back to back, kept (every service-put fills an inner map from 0; nothing writes into them). */
let chunkKeyBytes = new Uint8Array(0);

function chunkKeys(count: number): Uint8Array {
  if (chunkKeyBytes.byteLength < 4 * count) {
    const grown = new Uint8Array(4 * Math.max(count, 2 * (chunkKeyBytes.byteLength / 4), 64));
    for (let i = 0; i < grown.byteLength / 4; i++) encodeU32KeyInto(grown, 4 * i, i, 'chunk');
    chunkKeyBytes = grown;
  }
  return chunkKeyBytes.subarray(0, 4 * count);
}

/** `f(key, value)` per entry of `map`, both views into one packed read (valid during the call). */
function forEachPacked(map: MapHandle, f: (key: Uint8Array, value: Uint8Array) => void): void {
  const { keys, values, count } = map.entriesPacked();
  const k = map.info.keySize;
  const v = map.valueBytes;
  for (let i = 0; i < count; i++) f(keys.subarray(i * k, (i + 1) * k), values.subarray(i * v, (i + 1) * v));
}

/**
 * An inner service map's values back to back in index order (a missing one reads as zeros),
 * as one batch lookup returns them: no arrays per entry (a dump reads 10,000 inner maps).
 */
function innerValues(inner: MapHandle): Uint8Array {
  const { keys, values, count } = inner.entriesPacked();
  const size = SERVICE_CHUNK_BYTES;
  // u32 keys in host order (little-endian: see open()).
  const keyAt = (i: number): number => ((keys[4 * i] as number) | ((keys[4 * i + 1] as number) << 8) | ((keys[4 * i + 2] as number) << 16) | ((keys[4 * i + 3] as number) << 24)) >>> 0;
  let inOrder = count === inner.info.maxEntries && values.byteLength === count * size;
  for (let i = 0; inOrder && i < count; i++) inOrder = keyAt(i) === i;
  if (inOrder) return values;
  const bytes = new Uint8Array(inner.info.maxEntries * size);
  for (let i = 0; i < count; i++) {
    const index = keyAt(i);
    if (index < inner.info.maxEntries) bytes.set(values.subarray(i * size, (i + 1) * size), index * size);
  }
  return bytes;
}

/** The state of one apply() pass: results so far and what later ops must not touch. */
class ApplyRun {
  applied = 0;
  readonly failed: { op: MapOp; error: Error }[] = [];
  readonly skipped: MapOp[] = [];
  innerWrites = 0;
  private readonly failedBackends = new Set<number>();
  private readonly unpublishedServices = new Set<number>();
  private readonly keepServices = new Set<number>();
  private readonly keepBackends = new Set<number>();
  private keepAllBackends = false;

  constructor(
    private readonly maps: Readonly<Record<ResolverMapName, MapHandle>>,
    private readonly backendIdsOf: (serviceId: number) => readonly number[] | undefined,
    /** A table swapped in, frozen, in its inner map `innerId`. */
    private readonly published: (innerId: number, table: ServiceTable) => void,
  ) {}

  group(ops: readonly MapOp[]): void {
    const first = ops[0];
    if (first === undefined) return;
    switch (first.op) {
      case 'backend-put':
        return this.backendPuts(ops as Extract<MapOp, { op: 'backend-put' }>[]);
      case 'service-put':
        return this.servicePuts(ops as Extract<MapOp, { op: 'service-put' }>[]);
      case 'frontend-put':
        return this.frontendPuts(ops as Extract<MapOp, { op: 'frontend-put' }>[]);
      case 'frontend-delete':
        return this.frontendDeletes(ops as Extract<MapOp, { op: 'frontend-delete' }>[]);
      case 'service-delete':
        return this.serviceDeletes(ops as Extract<MapOp, { op: 'service-delete' }>[]);
      case 'backend-delete':
        return this.backendDeletes(ops as Extract<MapOp, { op: 'backend-delete' }>[]);
      default:
        for (const op of ops) {
          const error = new BpfError({ code: 'BPF_MAP_PLAN', op: 'apply', map: '', detail: `unknown op ${JSON.stringify((op as { op?: unknown }).op)}` });
          this.failed.push({ op, error });
        }
    }
  }

  private fail(op: MapOp, error: unknown): void {
    this.failed.push({ op, error: error instanceof Error ? error : new Error(String(error)) });
  }

  /** Encode every op; those that fail to encode are recorded and left out. */
  private encode<T extends MapOp, R>(ops: readonly T[], encode: (op: T) => R, onFail: (op: T) => void): { ops: T[]; encoded: R[] } {
    const kept: T[] = [];
    const encoded: R[] = [];
    for (const op of ops) {
      try {
        encoded.push(encode(op));
        kept.push(op);
      } catch (e) {
        this.fail(op, e);
        onFail(op);
      }
    }
    return { ops: kept, encoded };
  }

  /** Count successes of a batch and record its failures (`onFail` per failed op). */
  private settle<T extends MapOp>(ops: readonly T[], result: BatchResult, onFail: (op: T) => void): void {
    const failedIndexes = new Set<number>();
    for (const { index, error } of result.failed) {
      const op = ops[index] as T;
      failedIndexes.add(index);
      this.fail(op, error);
      onFail(op);
    }
    this.applied += ops.length - failedIndexes.size;
  }

  /** Encoded straight into one key and one value buffer (100,000 backends on a first pass). */
  private backendPuts(all: readonly Extract<MapOp, { op: 'backend-put' }>[]): void {
    const onFail = (op: (typeof all)[number]): void => void this.failedBackends.add(op.id);
    const size = BACKEND_VALUE.size;
    const keys = new Uint8Array(4 * all.length);
    const values = new Uint8Array(size * all.length);
    const ops: (typeof all)[number][] = [];
    for (const op of all) {
      const at = ops.length;
      try {
        encodeBackendValueInto(values, at * size, op.backend);
        encodeU32KeyInto(keys, at * 4, op.id, 'backend id');
        ops.push(op);
      } catch (e) {
        values.fill(0, at * size, (at + 1) * size); // the next op writes here: zeros, as encodeBackendValueInto needs
        this.fail(op, e);
        onFail(op);
      }
    }
    if (ops.length === 0) return;
    const result = this.maps.bd_backends.updatePacked(keys.subarray(0, 4 * ops.length), values.subarray(0, size * ops.length));
    this.settle(ops, result, onFail);
  }

  /** Build and fill each inner map, then swap them all into bd_services with one batch update. */
  private servicePuts(all: readonly Extract<MapOp, { op: 'service-put' }>[]): void {
    for (let i = 0; i < all.length; i += SWAP_BATCH) this.servicePutBatch(all.slice(i, i + SWAP_BATCH));
  }

  private servicePutBatch(ops: readonly Extract<MapOp, { op: 'service-put' }>[]): void {
    const ready: { op: (typeof ops)[number]; key: Uint8Array; inner: MapHandle }[] = [];
    try {
      for (const op of ops) {
        if (op.table.backendIds.some((id) => this.failedBackends.has(id))) {
          this.skipped.push(op);
          this.serviceNotPublished(op.id);
          continue;
        }
        let inner: MapHandle | undefined;
        try {
          const key = u32(op.id, 'service id', 1);
          const values = encodeServiceTableBytes(op.table);
          const count = values.byteLength / SERVICE_CHUNK_BYTES;
          inner = MapHandle.create({
            type: BPF_MAP_TYPE.ARRAY,
            name: innerMapName(op.id),
            keySize: 4,
            valueSize: SERVICE_CHUNK_BYTES,
            maxEntries: count,
            flags: BPF_F_INNER_MAP,
          });
          const filled = inner.updatePacked(chunkKeys(count), values);
          const firstFailure = filled.failed[0];
          if (firstFailure !== undefined) throw firstFailure.error;
          // Read-only from now on: a table never changes once made (a change swaps in a new map).
          inner.freeze();
          ready.push({ op, key, inner });
        } catch (e) {
          if (inner !== undefined) {
            this.innerWrites += inner.writes;
            inner.close();
          }
          this.fail(op, e);
          this.serviceNotPublished(op.id);
        }
      }
      if (ready.length === 0) return;
      // The atomic swaps: one outer-map element per service, in plan order, one syscall
      // (and one RCU grace period in the kernel instead of one per service).
      const result = this.maps.bd_services.updateMany(
        ready.map((r) => r.key),
        ready.map((r) => u32(r.inner.fd, 'inner map fd')),
      );
      this.settle(ready.map((r) => r.op), result, (op) => this.serviceNotPublished(op.id));
      const failed = new Set(result.failed.map((f) => f.index));
      ready.forEach((r, i) => {
        if (!failed.has(i)) this.published(r.inner.info.id, r.op.table);
      });
    } finally {
      for (const r of ready) {
        this.innerWrites += r.inner.writes;
        r.inner.close(); // the outer map holds its own reference
      }
    }
  }

  /** A service keeps its current table (if any): frontends must not move to it, its backends stay. */
  private serviceNotPublished(serviceId: number): void {
    this.unpublishedServices.add(serviceId);
    this.keepBackendsOf(serviceId);
  }

  private keepBackendsOf(serviceId: number): void {
    try {
      for (const id of this.backendIdsOf(serviceId) ?? []) this.keepBackends.add(id);
    } catch {
      this.keepAllBackends = true; // cannot tell which backends it names: delete none
    }
  }

  /** A frontend whose put failed or was skipped keeps its current service: that one stays. */
  private keepCurrentServiceOf(frontend: FrontendEntry): void {
    try {
      const current = this.maps.bd_frontends.lookup(encodeFrontendKey(frontend));
      if (current !== undefined) this.keepServices.add(decodeFrontendValue(current));
    } catch {
      // The key does not even encode: nothing in the map can be under it.
    }
  }

  private frontendPuts(all: readonly Extract<MapOp, { op: 'frontend-put' }>[]): void {
    const runnable = all.filter((op) => {
      if (!this.unpublishedServices.has(op.frontend.serviceId)) return true;
      this.skipped.push(op);
      this.keepCurrentServiceOf(op.frontend);
      return false;
    });
    const onFail = (op: (typeof all)[number]): void => this.keepCurrentServiceOf(op.frontend);
    const { ops, encoded } = this.encode(runnable, (op) => [encodeFrontendKey(op.frontend), encodeFrontendValue(op.frontend.serviceId)] as const, onFail);
    if (ops.length === 0) return;
    const result = this.maps.bd_frontends.updateMany(encoded.map((e) => e[0]), encoded.map((e) => e[1]));
    this.settle(ops, result, onFail);
  }

  private frontendDeletes(all: readonly Extract<MapOp, { op: 'frontend-delete' }>[]): void {
    const onFail = (op: (typeof all)[number]): void => void this.keepServices.add(op.frontend.serviceId);
    const { ops, encoded } = this.encode(all, (op) => encodeFrontendKey(op.frontend), onFail);
    if (ops.length === 0) return;
    this.settle(ops, this.maps.bd_frontends.deleteMany(encoded), onFail);
  }

  private serviceDeletes(all: readonly Extract<MapOp, { op: 'service-delete' }>[]): void {
    const runnable = all.filter((op) => {
      if (!this.keepServices.has(op.id)) return true;
      this.skipped.push(op);
      this.keepBackendsOf(op.id);
      return false;
    });
    const onFail = (op: (typeof all)[number]): void => this.keepBackendsOf(op.id);
    const { ops, encoded } = this.encode(runnable, (op) => u32(op.id, 'service id', 1), onFail);
    if (ops.length === 0) return;
    this.settle(ops, this.maps.bd_services.deleteMany(encoded), onFail);
  }

  private backendDeletes(all: readonly Extract<MapOp, { op: 'backend-delete' }>[]): void {
    const runnable = all.filter((op) => {
      if (!this.keepAllBackends && !this.keepBackends.has(op.id)) return true;
      this.skipped.push(op);
      return false;
    });
    const { ops, encoded } = this.encode(runnable, (op) => u32(op.id, 'backend id'), () => undefined);
    if (ops.length === 0) return;
    this.settle(ops, this.maps.bd_backends.deleteMany(encoded), () => undefined);
  }
}
