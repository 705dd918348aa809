// The resolver's pinned maps: open them, dump them into the model, apply plans in publish
// order with failures isolated (apply-run.ts), and read the kernel's counters and memory
// accounting.
import { endianness } from 'node:os';
import { join } from 'node:path';
import { MapHandle } from '../libbpf/maps.js';
import { BpfError } from '../libbpf/errors.js';
import type { BackendEntry, FrontendEntry, MapsDump, Plan, ServiceTable } from '../model.js';
import type { MapsReadView } from '../plan/maps-mirror.js';
import { ApplyRun, innerMapName, type ApplyReport } from './apply-run.js';
import { heldTablesBudget } from './held-tables.js';
import {
  CNT_MAX,
  COUNTERS,
  MAP_NAMES,
  MAP_SPECS,
  SERVICE_CHUNK_BYTES,
  backendValueHolds,
  decodeBackendValue,
  decodeFrontendKey,
  decodeFrontendValue,
  decodeResolverConfig,
  decodeServiceTableBytes,
  decodeU32,
  encodeResolverConfig,
  encodeU32Key,
  type CounterName,
  type ResolverConfig,
  type ResolverMapName,
} from './layout.js';

export { innerMapName, type ApplyReport } from './apply-run.js';

/** One read of the maps (ResolverMaps.read). */
export interface MapsRead {
  /** For MapsMirror.difference: backends compared as bytes, none decoded. */
  readonly view: MapsReadView;
  /** The whole read decoded (once; the same object after). */
  dump(): MapsDump;
}

export interface OpenOptions {
  /** Most new tables one pass of writes holds (fds) before swapping them in; default a quarter of the open-files limit (held-tables.ts). */
  readonly maxHeldTables?: number;
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
 * The writes of one pass of the agent (ResolverMaps.beginPass): the plans of its steps, in
 * order. New tables, and the frontends that follow them, may wait for the end of the pass (or
 * until as many tables wait as the process may hold fds for): each swap into bd_services costs
 * an RCU grace period, 5-20 ms on some kernels. Close it when done.
 */
export interface MapsPass {
  /** Applies `plan` (publish order, else BpfError BPF_MAP_PLAN before any write); `finish`: then everything waiting too. */
  apply(plan: Plan, finish?: boolean): ApplyReport;
  /** Writes everything still waiting. */
  finish(): ApplyReport;
  /** Drops what still waits (never written; its fds closed). Idempotent. */
  close(): void;
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

  private constructor(
    private readonly maps: Readonly<Record<ResolverMapName, MapHandle>>,
    /** Most new tables one pass of writes holds before swapping them in. */
    private readonly maxHeldTables: number,
  ) {}

  /**
   * Open every pinned map and check its type, key and value size against layout.ts.
   * Throws BpfError BPF_MAP_LAYOUT naming the map when they differ, BPF_MAP_OP when a pin
   * cannot be opened.
   */
  static open(pinRoot: string, options: OpenOptions = {}): ResolverMaps {
    const maxHeldTables = options.maxHeldTables ?? heldTablesBudget();
    if (!Number.isInteger(maxHeldTables) || maxHeldTables < 1) throw new RangeError(`maxHeldTables must be a positive integer, got ${maxHeldTables}`);
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
      return new ResolverMaps(opened as Record<ResolverMapName, MapHandle>, maxHeldTables);
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
    return this.read().dump();
  }

  /**
   * Read every map once: frontends and tables as the model has them, the backends kept as
   * read (checked against the agent's view as bytes: `view`; decoded only by `dump()`, on its
   * first call). A re-read that finds no drift decodes no backend (100,000 at 10,000 Services).
   */
  read(): MapsRead {
    // Read packed and decoded from views: no two arrays per entry.
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
    const backends = this.maps.bd_backends.entriesPacked();
    const keySize = this.maps.bd_backends.info.keySize;
    const valueSize = this.maps.bd_backends.valueBytes;
    let decoded: MapsDump | undefined;
    const { keys, values } = backends;
    return {
      view: {
        frontends,
        services,
        backendCount: backends.count,
        firstBackendDifference(expected) {
          for (let i = 0; i < backends.count; i++) {
            // u32 keys in host order (little-endian: see open()), read in place.
            const k = i * keySize;
            const id = ((keys[k] as number) | ((keys[k + 1] as number) << 8) | ((keys[k + 2] as number) << 16) | ((keys[k + 3] as number) << 24)) >>> 0;
            const b = expected(id);
            if (b === undefined || !backendValueHolds(values, i * valueSize, b)) {
              return { id, held: decodeBackendValue(backends.values.subarray(i * valueSize, (i + 1) * valueSize)) };
            }
          }
          return undefined;
        },
      },
      dump: () => {
        if (decoded === undefined) {
          const byId = new Map<number, BackendEntry>();
          for (let i = 0; i < backends.count; i++) {
            byId.set(decodeU32(backends.keys.subarray(i * keySize, (i + 1) * keySize), 'bd_backends key'), decodeBackendValue(backends.values.subarray(i * valueSize, (i + 1) * valueSize)));
          }
          decoded = { frontends, services, backends: byId };
        }
        return decoded;
      },
    };
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
   * BpfError BPF_MAP_PLAN is thrown before any write): one pass of writes with this plan only
   * ({@link beginPass}). Consecutive backend-put, frontend-put, frontend-delete, service-delete
   * and backend-delete ops are written in batches. Each service-put builds a new inner map,
   * fills it in one batch and freezes it; then the new tables are swapped into bd_services by
   * one batch update (each element is one atomic swap; the kernel waits one RCU grace period
   * per call, so one call instead of one per service), our fds are closed (the outer map holds
   * the inner maps), and the frontend-puts follow.
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
    const pass = this.beginPass();
    try {
      return pass.apply(plan, true);
    } finally {
      pass.close();
    }
  }

  /**
   * One pass of writes over several plans (the steps of the agent's pass), with the rules of
   * {@link apply} across all of them: a table's swap, and the frontend-puts after it, may wait
   * for a later plan or for finish() (deletions first write everything waiting).
   */
  beginPass(): MapsPass {
    const run = new ApplyRun(this.maps, (id) => this.currentBackendIds(id), (innerId, table) => this.frozenTables.set(innerId, table), this.maxHeldTables);
    const step = (write: () => void): ApplyReport => {
      const started = performance.now();
      const applied = run.applied;
      const failed = run.failed.length;
      const skipped = run.skipped.length;
      const writes = this.totalWrites() + run.innerWrites;
      write();
      return {
        applied: run.applied - applied,
        failed: run.failed.slice(failed),
        skipped: run.skipped.slice(skipped),
        writes: this.totalWrites() + run.innerWrites - writes,
        ms: performance.now() - started,
      };
    };
    return {
      apply: (plan, finish = false) =>
        step(() => {
          run.plan(plan.ops);
          if (finish) run.flush();
        }),
      finish: () => step(() => run.flush()),
      close: () => run.close(),
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
