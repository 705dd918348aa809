// Backend ids that survive restarts with no name map: the dump's id for an (address, port) is
// reused; a new backend takes the lowest id ≥ 1 the dump does not hold.
import type { BackendEntry, DesiredService, MapOp, MapsDump } from '../model.js';
import { createIdAllocator, type ReservedIds } from './id-allocator.js';
import { backendKey } from './keys.js';

export interface BackendAssignment {
  /** backendKey → id, for every backend some desired service lists. */
  readonly ids: ReadonlyMap<string, number>;
  /** backend-put ops (new, or `local` changed), by id. */
  readonly puts: readonly Extract<MapOp, { op: 'backend-put' }>[];
}

/**
 * Assigns every desired backend an id. One backend may appear in several services: it is
 * `local` when any of them says so. Among dump ids holding the same (address, port) (a corrupt
 * dump), the smallest is kept; the others fall out as unused.
 */
export function assignBackendIds(services: Iterable<DesiredService>, actual: MapsDump, reserved?: ReservedIds): BackendAssignment {
  const wanted = new Map<string, BackendEntry>();
  for (const s of services) {
    for (const b of s.backends) {
      const key = backendKey(b);
      const seen = wanted.get(key);
      if (seen === undefined || (!seen.local && b.local)) wanted.set(key, { address: b.address, port: b.port, local: b.local });
    }
  }
  const existing = new Map<string, number>();
  actual.backends.forEach((entry, id) => {
    const key = backendKey(entry);
    const seen = existing.get(key);
    if (seen === undefined || id < seen) existing.set(key, id);
  });
  const ids = new Map<string, number>();
  const puts: Extract<MapOp, { op: 'backend-put' }>[] = [];
  const fresh: string[] = [];
  wanted.forEach((backend, key) => {
    const old = existing.get(key);
    if (old === undefined) {
      fresh.push(key);
      return;
    }
    ids.set(key, old);
    if (actual.backends.get(old)?.local !== backend.local) puts.push({ op: 'backend-put', id: old, backend });
  });
  // New backends take the lowest free ids in key order (deterministic whatever the input order).
  const allocate = createIdAllocator(actual.backends.keys(), reserved);
  for (const key of fresh.sort()) {
    const id = allocate();
    ids.set(key, id);
    puts.push({ op: 'backend-put', id, backend: wanted.get(key) as BackendEntry });
  }
  puts.sort((a, b) => a.id - b.id);
  return { ids, puts };
}
