// What the pinned maps hold, kept up to date by applying each plan's ops in place, with the
// indexes a plan over a part of the maps needs (planChanges): backend id by (address, port),
// and how many tables list each backend. One implementation of "apply ops to a picture of the
// maps": applyToDump is a mirror made from a dump, changed, and read back. Also how many
// frontends name each table (a plan over a part must not delete a table the rest still names).
import type { BackendEntry, FrontendEntry, MapOp, MapsDump, ServiceTable } from '../model.js';
import { backendIndexKey, compareFrontends, frontendKey, type BackendIndexKey } from './keys.js';
import { LowestFreeId } from './lowest-free-id.js';
import { sameTable } from './table-equality.js';

/**
 * A read of the maps as {@link MapsMirror.difference} takes it: frontends and tables as the
 * model has them, and the backends checked one by one against an entry without being decoded
 * (ResolverMaps.read: 100,000 backends at 10,000 Services are compared as bytes).
 */
export interface MapsReadView {
  readonly frontends: readonly FrontendEntry[];
  readonly services: ReadonlyMap<number, ServiceTable>;
  readonly backendCount: number;
  /** The first backend whose entry is not `expected(id)` (undefined there: none expected), with the entry the maps hold; undefined when every one is. */
  firstBackendDifference(expected: (id: number) => BackendEntry | undefined): { readonly id: number; readonly held: BackendEntry } | undefined;
}

/** A decoded read of the maps as a {@link MapsReadView}. */
export function viewOfDump(dump: MapsDump): MapsReadView {
  return {
    frontends: dump.frontends,
    services: dump.services,
    backendCount: dump.backends.size,
    firstBackendDifference(expected) {
      for (const [id, held] of dump.backends) {
        const b = expected(id);
        if (b === undefined || b.address !== held.address || b.port !== held.port || b.local !== held.local) return { id, held };
      }
      return undefined;
    },
  };
}

export class MapsMirror {
  /** By frontendKey. */
  readonly frontends = new Map<string, FrontendEntry>();
  readonly services = new Map<number, ServiceTable>();
  readonly backends = new Map<number, BackendEntry>();
  /** backendIndexKey → the smallest id holding that (address, port). */
  private readonly idByBackend = new Map<BackendIndexKey, number>();
  /** Every id of a backendIndexKey that more than one id holds (only a corrupt dump has any). */
  private readonly shared = new Map<BackendIndexKey, Set<number>>();
  /** Backend id → tables listing it. */
  private readonly refs = new Map<number, number>();
  /** Service id → frontends naming it. */
  private readonly naming = new Map<number, number>();
  /** The smallest id ≥ 1 not in `services` / `backends` (kept as they change). */
  private readonly serviceFloor = new LowestFreeId((id) => this.services.has(id));
  private readonly backendFloor = new LowestFreeId((id) => this.backends.has(id));
  /** Above every backend id the maps held since this mirror was made. */
  private backendCeiling = 1;

  static fromDump(dump: MapsDump): MapsMirror {
    const m = new MapsMirror();
    for (const f of dump.frontends) m.putFrontend(f);
    for (const [id, b] of dump.backends) m.putBackend(id, b);
    for (const [id, t] of dump.services) m.putService(id, t);
    return m;
  }

  /** Applies ops in order (as the maps did). Returns this. */
  apply(ops: readonly MapOp[]): this {
    // Indexed: a for…of here allocated an iterator result per op (120,000 on a first pass).
    for (let i = 0; i < ops.length; i++) {
      const op = ops[i] as MapOp;
      switch (op.op) {
        case 'backend-put':
          this.putBackend(op.id, op.backend);
          break;
        case 'service-put':
          this.putService(op.id, op.table);
          break;
        case 'frontend-put':
          this.putFrontend(op.frontend);
          break;
        case 'frontend-delete':
          this.dropFrontend(frontendKey(op.frontend));
          break;
        case 'service-delete':
          this.dropService(op.id);
          break;
        case 'backend-delete':
          this.dropBackend(op.id);
          break;
      }
    }
    return this;
  }

  /** The id the maps hold for (address, port), if any. */
  backendId(address: string, port: number): number | undefined {
    return this.idByBackend.get(backendIndexKey(address, port));
  }

  /** How many tables list backend `id`. */
  tablesListing(id: number): number {
    return this.refs.get(id) ?? 0;
  }

  /** How many frontends name service `id`. */
  frontendsNaming(id: number): number {
    return this.naming.get(id) ?? 0;
  }

  /** The lowest service id ≥ 1 the maps do not hold: every id below it is in use. */
  get freeServiceIdFloor(): number {
    return this.serviceFloor.value;
  }

  /** The lowest backend id ≥ 1 the maps do not hold: every id below it is in use. */
  get freeBackendIdFloor(): number {
    return this.backendFloor.value;
  }

  /** An id above every backend id the maps hold (they may hold fewer: it never goes down). */
  get backendIdCeiling(): number {
    return this.backendCeiling;
  }

  /**
   * The maps hold exactly what this mirror says (a read of them, `dump`, has the same
   * frontends, tables, revisions and backends): a periodic re-read that finds no drift.
   */
  matches(read: MapsDump | MapsReadView): boolean {
    return this.difference(read) === undefined;
  }

  /** The first way a read of the maps differs from this mirror (for a log line), or undefined: {@link matches}. */
  difference(read: MapsDump | MapsReadView): string | undefined {
    const view = 'backends' in read ? viewOfDump(read) : read;
    if (view.frontends.length !== this.frontends.size || view.services.size !== this.services.size || view.backendCount !== this.backends.size) {
      return `the maps hold ${view.frontends.length} frontends, ${view.services.size} tables, ${view.backendCount} backends; the agent's view ${this.frontends.size}, ${this.services.size}, ${this.backends.size}`;
    }
    for (const f of view.frontends) {
      const mine = this.frontends.get(frontendKey(f))?.serviceId;
      if (mine !== f.serviceId) return `frontend ${frontendKey(f)} names service ${f.serviceId}; the agent's view ${String(mine)}`;
    }
    for (const [id, t] of view.services) {
      const mine = this.services.get(id);
      if (mine === undefined || !sameTable(mine, t)) return `service ${id}: the maps hold ${describeTable(t)}; the agent's view ${mine === undefined ? 'none' : describeTable(mine)}`;
    }
    const backend = view.firstBackendDifference((id) => this.backends.get(id));
    if (backend !== undefined) return `backend ${backend.id}: the maps hold ${JSON.stringify(backend.held)}; the agent's view ${JSON.stringify(this.backends.get(backend.id))}`;
    return undefined;
  }

  toDump(): MapsDump {
    return { frontends: [...this.frontends.values()].sort(compareFrontends), services: new Map(this.services), backends: new Map(this.backends) };
  }

  private putFrontend(f: FrontendEntry): void {
    const key = frontendKey(f);
    this.dropFrontend(key);
    this.frontends.set(key, f);
    this.naming.set(f.serviceId, (this.naming.get(f.serviceId) ?? 0) + 1);
  }

  private dropFrontend(key: string): void {
    const old = this.frontends.get(key);
    if (old === undefined) return;
    this.frontends.delete(key);
    const n = (this.naming.get(old.serviceId) ?? 0) - 1;
    if (n > 0) this.naming.set(old.serviceId, n);
    else this.naming.delete(old.serviceId);
  }

  private putBackend(id: number, b: BackendEntry): void {
    const old = this.backends.get(id);
    if (old !== undefined) this.unindex(id, old);
    this.backends.set(id, b);
    if (id >= this.backendCeiling) this.backendCeiling = id + 1;
    const key = backendIndexKey(b.address, b.port);
    const seen = this.idByBackend.get(key);
    if (seen === undefined) {
      this.idByBackend.set(key, id);
      return;
    }
    const ids = this.shared.get(key) ?? new Set([seen]);
    ids.add(id);
    this.shared.set(key, ids);
    if (id < seen) this.idByBackend.set(key, id);
  }

  private dropBackend(id: number): void {
    const old = this.backends.get(id);
    if (old === undefined) return;
    this.backends.delete(id);
    this.backendFloor.release(id);
    this.unindex(id, old);
  }

  private unindex(id: number, b: BackendEntry): void {
    const key = backendIndexKey(b.address, b.port);
    const ids = this.shared.get(key);
    if (ids === undefined) {
      if (this.idByBackend.get(key) === id) this.idByBackend.delete(key);
      return;
    }
    ids.delete(id);
    this.idByBackend.set(key, Math.min(...ids));
    if (ids.size === 1) this.shared.delete(key);
  }

  private putService(id: number, t: ServiceTable): void {
    // A new table for a held id: the id stays held (not released and taken again).
    const old = this.services.get(id);
    if (old !== undefined) this.unref(old);
    this.services.set(id, t);
    forEachDistinct(t.backendIds, (b) => this.refs.set(b, (this.refs.get(b) ?? 0) + 1));
  }

  private dropService(id: number): void {
    const old = this.services.get(id);
    if (old === undefined) return;
    this.services.delete(id);
    this.serviceFloor.release(id);
    this.unref(old);
  }

  /** `old` no longer lists its backends. */
  private unref(old: ServiceTable): void {
    forEachDistinct(old.backendIds, (b) => {
      const n = (this.refs.get(b) ?? 0) - 1;
      if (n > 0) this.refs.set(b, n);
      else this.refs.delete(b);
    });
  }
}

/** Below this many ids a repeat is looked for in place: no Set per table (10,000 tables on a first pass). */
const SMALL_LIST = 32;

/** `f` once per distinct id of `ids` (a dumped table may repeat one). */
function forEachDistinct(ids: readonly number[], f: (id: number) => void): void {
  if (ids.length > SMALL_LIST) {
    for (const id of new Set(ids)) f(id);
    return;
  }
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i] as number;
    if (ids.indexOf(id) === i) f(id);
  }
}

/** A table in a few words: revision, flags, backends, and how many slots name each. */
function describeTable(t: ServiceTable): string {
  const counts = new Array<number>(t.backendIds.length).fill(0);
  for (const s of t.slots) counts[s] = (counts[s] ?? 0) + 1;
  return `revision ${t.revision}, flags ${t.flags}, affinity ${t.affinityTimeoutSeconds} s, ${t.skipCgroups.length} skipped cgroups, backends [${t.backendIds.join(',')}], ${t.slots.length} slots [${counts.join(',')}]`;
}
