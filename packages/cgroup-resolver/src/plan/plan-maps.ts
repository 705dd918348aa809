// The resolver's "Plan" step (DESIGN.md, controller pattern): desired state vs the pinned maps'
// dump → the minimal writes, in publish order. Pure; never flushes; everything in the maps is ours.
import type { DesiredFrontend, FrontendEntry, MapOp, MapsDump, Plan, RemovedBackend, ServiceTable, DesiredState } from '../model.js';
import { assignBackendIds } from './backend-ids.js';
import { backendIndexKey, backendKey, compareFrontends, frontendKey } from './keys.js';
import { PlanInputError } from './plan-errors.js';
import { serviceFlags } from './service-flags.js';
import { assignServiceIds } from './service-ids.js';
import { tableSkipCgroups } from './skip-cgroups.js';
import { sameForReaders } from './table-equality.js';
import { createTableBuilder, type TableBuilder } from './service-table.js';
import type { ReservedIds } from './id-allocator.js';

const NO_ENTRIES: readonly FrontendEntry[] = Object.freeze([]);

export interface PlanOptions {
  /** Builds a service's Maglev table; default: a fresh createTableBuilder() per plan. */
  readonly buildTable?: TableBuilder;
  /**
   * For a plan over a part of the maps (planChanges): ids the rest of the maps holds, never
   * handed out, and backends the rest still lists, never deleted.
   */
  readonly rest?: { readonly serviceIds: ReservedIds; readonly backendIds: ReservedIds };
}

/**
 * The ops that take the maps from `actual` to `desired`, in PUBLISH_ORDER:
 * backend-put (new, or `local` changed) → service-put (new, or backends/slots/flags/timeout/
 * skip cgroups changed; revision = old + 1) → frontend-put (new or retargeted) → frontend-delete →
 * service-delete → backend-delete (ids no desired service uses). A reader of the maps between
 * any two ops never finds a frontend whose service is missing nor a slot naming a missing backend.
 *
 * Only services some frontend names are published (and listed in `serviceIds`).
 * Ids: see assignBackendIds / assignServiceIds. `removed`: per surviving service id, backends
 * (address, port) its old table lists and its new one does not; for deleted ids, all of them.
 *
 * @throws PlanInputError when `desired` is inconsistent (a frontend naming an unknown service,
 *   two frontends on one key, a service with repeated or too many backends, or too many or
 *   invalid skip cgroup ids).
 */
export function planMaps(desired: DesiredState, actual: MapsDump, options: PlanOptions = {}): Plan {
  const buildTable = options.buildTable ?? createTableBuilder();

  const frontendsByService = new Map<string, DesiredFrontend[]>();
  const desiredFrontendKeys = new Set<string>();
  for (const f of desired.frontends) {
    if (!desired.services.has(f.service)) throw new PlanInputError(`frontend ${frontendKey(f)} names unknown service "${f.service}"`);
    const fk = frontendKey(f);
    if (desiredFrontendKeys.has(fk)) throw new PlanInputError(`two desired frontends on ${fk}`);
    desiredFrontendKeys.add(fk);
    const list = frontendsByService.get(f.service) ?? [];
    list.push(f);
    frontendsByService.set(f.service, list);
  }
  // A service no frontend names is not published: nothing could resolve to it, and its id could
  // not be recovered from the maps after a restart (ids are recovered through frontends).
  const keys = [...frontendsByService.keys()].sort();
  const actualByKey = new Map<string, FrontendEntry[]>();
  for (const e of actual.frontends) {
    const fk = frontendKey(e);
    const list = actualByKey.get(fk) ?? [];
    list.push(e);
    actualByKey.set(fk, list);
  }

  const backends = assignBackendIds(keys.map((k) => desired.services.get(k)!), actual, options.rest?.backendIds);
  const serviceIds = assignServiceIds(keys, frontendsByService, actualByKey, actual, options.rest?.serviceIds);

  // Service tables
  const servicePuts: Extract<MapOp, { op: 'service-put' }>[] = [];
  const removed: RemovedBackend[] = [];
  for (const key of keys) {
    const service = desired.services.get(key)!;
    const id = serviceIds.get(key)!;
    const built = buildTable(service.backends);
    const table: ServiceTable = {
      backendIds: built.backends.map((b) => backends.ids.get(backendIndexKey(b.address, b.port))!),
      slots: built.slots,
      flags: serviceFlags(service.options),
      affinityTimeoutSeconds: service.options.affinityTimeoutSeconds ?? 0,
      revision: 1,
      skipCgroups: tableSkipCgroups(service),
    };
    const old = actual.services.get(id);
    if (old === undefined) {
      servicePuts.push({ op: 'service-put', id, key, table });
      continue;
    }
    if (!sameForReaders(old, table)) servicePuts.push({ op: 'service-put', id, key, table: { ...table, revision: nextRevision(old.revision) } });
    const kept = new Set(service.backends.map((b) => backendIndexKey(b.address, b.port)));
    removed.push(...tableBackends(old, actual).filter((b) => !kept.has(backendIndexKey(b.address, b.port))).map((b) => ({ serviceId: id, ...b })));
  }
  servicePuts.sort((a, b) => a.id - b.id);

  // Frontends
  const frontendPuts: MapOp[] = [];
  for (const f of [...desired.frontends].sort(compareFrontends)) {
    const serviceId = serviceIds.get(f.service)!;
    const entries = actualByKey.size === 0 ? NO_ENTRIES : (actualByKey.get(frontendKey(f)) ?? NO_ENTRIES);
    if (entries.length === 0 || entries.some((e) => e.serviceId !== serviceId)) {
      frontendPuts.push({ op: 'frontend-put', frontend: { address: f.address, port: f.port, protocol: f.protocol, kind: f.kind, serviceId } });
    }
  }
  const frontendDeletes: MapOp[] = [];
  for (const [fk, entries] of actualByKey) {
    const e = entries[0];
    if (e !== undefined && !desiredFrontendKeys.has(fk)) frontendDeletes.push({ op: 'frontend-delete', frontend: e });
  }
  frontendDeletes.sort((a, b) => compareFrontends((a as { frontend: FrontendEntry }).frontend, (b as { frontend: FrontendEntry }).frontend));

  // Deletions: services no desired service claims, then backends no desired service lists.
  // Sets only for a dump that holds something (none on a first pass: 100,000 ids in chunks).
  const liveServiceIds = actual.services.size > 0 ? new Set(serviceIds.values()) : new Set<number>();
  const serviceDeletes: MapOp[] = [];
  for (const id of [...actual.services.keys()].sort((a, b) => a - b)) {
    if (liveServiceIds.has(id)) continue;
    serviceDeletes.push({ op: 'service-delete', id });
    removed.push(...tableBackends(actual.services.get(id)!, actual).map((b) => ({ serviceId: id, ...b })));
  }
  const liveBackendIds = actual.backends.size > 0 ? new Set(backends.ids.values()) : new Set<number>();
  const backendDeletes: MapOp[] = [...actual.backends.keys()]
    .filter((id) => !liveBackendIds.has(id) && options.rest?.backendIds.has(id) !== true)
    .sort((a, b) => a - b)
    .map((id) => ({ op: 'backend-delete', id }));

  return {
    ops: [...backends.puts, ...servicePuts, ...frontendPuts, ...frontendDeletes, ...serviceDeletes, ...backendDeletes],
    removed: uniqueRemoved(removed),
    serviceIds: new Map(keys.map((k) => [k, serviceIds.get(k)!])),
  };
}

/** u32 revision, wrapping to 1 (0 is never written). */
function nextRevision(revision: number): number {
  return Number.isInteger(revision) && revision >= 0 && revision < 0xffffffff ? revision + 1 : 1;
}

/** The (address, port) of each backend id a dumped table lists (ids missing from the dump are skipped). */
function tableBackends(table: ServiceTable, actual: MapsDump): { address: string; port: number }[] {
  const out: { address: string; port: number }[] = [];
  for (const id of table.backendIds) {
    const b = actual.backends.get(id);
    if (b !== undefined) out.push({ address: b.address, port: b.port });
  }
  return out;
}

function uniqueRemoved(list: readonly RemovedBackend[]): RemovedBackend[] {
  const seen = new Map<string, RemovedBackend>();
  for (const r of list) seen.set(`${r.serviceId} ${backendKey(r)}`, r);
  return [...seen.values()].sort((a, b) => a.serviceId - b.serviceId || (a.address < b.address ? -1 : a.address > b.address ? 1 : 0) || a.port - b.port);
}
