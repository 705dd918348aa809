// Writing plans into the pinned maps (ResolverMaps.apply, ResolverMaps.beginPass): each kind
// of op as one batch, failures isolated (an op whose dependency failed is skipped, never written
// half), in publish order.
import { BPF_F_INNER_MAP, MapHandle, type BatchResult } from '../libbpf/maps.js';
import { BpfError } from '../libbpf/errors.js';
import type { FrontendEntry, MapOp, ServiceTable } from '../model.js';
import { PUBLISH_ORDER } from '../model.js';
import {
  BACKEND_VALUE,
  BPF_MAP_TYPE,
  SERVICE_CHUNK_BYTES,
  decodeFrontendValue,
  encodeBackendValueInto,
  encodeFrontendKey,
  encodeFrontendValue,
  encodeServiceTableBytes,
  encodeU32Key,
  encodeU32KeyInto,
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

/** Name of a service's inner map (≤ 15 characters: `bd_svc_` + up to 8 hex digits). */
export function innerMapName(serviceId: number): string {
  return `bd_svc_${serviceId.toString(16)}`;
}

type ServicePut = Extract<MapOp, { op: 'service-put' }>;
type FrontendPut = Extract<MapOp, { op: 'frontend-put' }>;

/**
 * The state of one pass of writes (one plan, or the plans of one agent pass's steps, in order):
 * results so far and what later ops must not touch. New tables wait to be swapped in, and the
 * frontends that follow them wait with them, until `flush` (or until `maxHeld` tables wait):
 * each swap into bd_services (a map of maps) returns only after an RCU grace period, so a pass
 * of many steps swaps a few times instead of once per step. Publish order holds throughout:
 * backends are written at once (before any table naming them is swapped in), a frontend only
 * after its table, deletions only after every waiting swap and frontend.
 */
export class ApplyRun {
  applied = 0;
  readonly failed: { op: MapOp; error: Error }[] = [];
  readonly skipped: MapOp[] = [];
  innerWrites = 0;
  /** Filled, frozen inner maps waiting for their swap (their fds held). */
  private readonly waitingTables: { op: ServicePut; key: Uint8Array; inner: MapHandle }[] = [];
  /** frontend-puts waiting for those swaps, in order. */
  private readonly waitingFrontends: FrontendPut[] = [];
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
    /** Most tables waiting at once (each holds an fd): more, and the waiting ones are swapped in. */
    private readonly maxHeld: number,
  ) {}

  /** Applies one plan's ops in publish order (checked first): new tables and their frontends may wait for {@link flush}. */
  plan(ops: readonly MapOp[]): void {
    checkOrder(ops);
    for (let i = 0; i < ops.length; ) {
      const kind = (ops[i] as MapOp).op;
      let j = i + 1;
      while (j < ops.length && (ops[j] as MapOp).op === kind) j++;
      this.group(ops.slice(i, j));
      i = j;
    }
  }

  /** Swaps in every waiting table (one batch call), then writes the frontends waiting for them. */
  flush(): void {
    this.swapWaiting();
    if (this.waitingFrontends.length > 0) this.frontendPuts(this.waitingFrontends.splice(0));
  }

  /** Tables and frontends still waiting (an exception ended the pass): closed and dropped, never published. */
  close(): void {
    for (const t of this.waitingTables.splice(0)) {
      this.innerWrites += t.inner.writes;
      t.inner.close();
    }
    this.waitingFrontends.length = 0;
  }

  private group(ops: readonly MapOp[]): void {
    const first = ops[0];
    if (first === undefined) return;
    switch (first.op) {
      case 'backend-put':
        return this.backendPuts(ops as Extract<MapOp, { op: 'backend-put' }>[]);
      case 'service-put':
        return this.servicePuts(ops as ServicePut[]);
      case 'frontend-put':
        // Behind tables (or frontends) still waiting: in line after them.
        if (this.waitingTables.length > 0 || this.waitingFrontends.length > 0) {
          this.waitingFrontends.push(...(ops as FrontendPut[]));
          return;
        }
        return this.frontendPuts(ops as FrontendPut[]);
      case 'frontend-delete':
        this.flush();
        return this.frontendDeletes(ops as Extract<MapOp, { op: 'frontend-delete' }>[]);
      case 'service-delete':
        this.flush();
        return this.serviceDeletes(ops as Extract<MapOp, { op: 'service-delete' }>[]);
      case 'backend-delete':
        this.flush();
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

  /** Build, fill and freeze each inner map; the swaps wait (see the class). */
  private servicePuts(all: readonly ServicePut[]): void {
    for (const op of all) {
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
        this.waitingTables.push({ op, key, inner });
      } catch (e) {
        if (inner !== undefined) {
          this.innerWrites += inner.writes;
          inner.close();
        }
        this.fail(op, e);
        this.serviceNotPublished(op.id);
        continue;
      }
      if (this.waitingTables.length >= this.maxHeld) this.flush();
    }
  }

  /** The atomic swaps of every waiting table: one outer-map element per service, in plan order, one batch call (one RCU grace period per call in the kernel). */
  private swapWaiting(): void {
    const ready = this.waitingTables.splice(0);
    if (ready.length === 0) return;
    try {
      const result = this.maps.bd_services.updateMany(
        ready.map((r) => r.key),
        ready.map((r) => u32(r.inner.fd, 'inner map fd')),
      );
      this.settle(
        ready.map((r) => r.op),
        result,
        (op) => this.serviceNotPublished(op.id),
      );
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

  private frontendPuts(all: readonly FrontendPut[]): void {
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

