// Backend ids that survive restarts with no name map: the dump's id for an (address, port) is
// reused; a new backend takes the lowest id ≥ 1 the dump does not hold.
import type { BackendEntry, DesiredBackend, DesiredService, MapOp, MapsDump } from '../model.js';
import { createIdAllocator, type ReservedIds } from './id-allocator.js';
import { backendIndexKey, compareBackendKeys, type BackendIndexKey } from './keys.js';

export interface BackendAssignment {
  /** backendIndexKey → id, for every backend some desired service lists. */
  readonly ids: ReadonlyMap<BackendIndexKey, number>;
  /** backend-put ops (new, or `local` changed), by id. */
  readonly puts: readonly Extract<MapOp, { op: 'backend-put' }>[];
}

/**
 * Assigns every desired backend an id. One backend may appear in several services: it is
 * `local` when any of them says so. Among dump ids holding the same (address, port) (a corrupt
 * dump), the smallest is kept; the others fall out as unused.
 */
export function assignBackendIds(services: Iterable<DesiredService>, actual: MapsDump, reserved?: ReservedIds): BackendAssignment {
  // Each backend once, in the order first listed: the first listing, or its first local one.
  // `ids` holds its position in `chosen` until it holds its id (one map, no key built twice).
  const ids = new Map<BackendIndexKey, number>();
  const chosen: DesiredBackend[] = [];
  const keys: BackendIndexKey[] = [];
  for (const s of services) {
    for (let i = 0; i < s.backends.length; i++) {
      const b = s.backends[i] as DesiredBackend;
      const key = backendIndexKey(b.address, b.port);
      const at = ids.get(key);
      if (at === undefined) {
        ids.set(key, chosen.length);
        chosen.push(b);
        keys.push(key);
      } else if (!(chosen[at] as DesiredBackend).local && b.local) chosen[at] = b;
    }
  }
  const existing = new Map<BackendIndexKey, number>();
  actual.backends.forEach((entry, id) => {
    const key = backendIndexKey(entry.address, entry.port);
    const seen = existing.get(key);
    if (seen === undefined || id < seen) existing.set(key, id);
  });
  const puts: Extract<MapOp, { op: 'backend-put' }>[] = [];
  const fresh: number[] = [];
  for (let at = 0; at < chosen.length; at++) {
    const old = existing.size === 0 ? undefined : existing.get(keys[at] as BackendIndexKey);
    if (old === undefined) {
      fresh.push(at);
      continue;
    }
    const backend = chosen[at] as DesiredBackend;
    ids.set(keys[at] as BackendIndexKey, old);
    if (actual.backends.get(old)?.local !== backend.local) puts.push({ op: 'backend-put', id: old, backend: entry(backend) });
  }
  // New backends take the lowest free ids in backendKey order (deterministic whatever the input order).
  const allocate = createIdAllocator(actual.backends.keys(), reserved);
  fresh.sort((x, y) => compareBackendKeys(chosen[x] as DesiredBackend, chosen[y] as DesiredBackend));
  for (let i = 0; i < fresh.length; i++) {
    const at = fresh[i] as number;
    const id = allocate();
    ids.set(keys[at] as BackendIndexKey, id);
    puts.push({ op: 'backend-put', id, backend: entry(chosen[at] as DesiredBackend) });
  }
  puts.sort((a, b) => a.id - b.id);
  return { ids, puts };
}

/** What the backends map holds for a desired backend. */
function entry(b: DesiredBackend): BackendEntry {
  return { address: b.address, port: b.port, local: b.local };
}
