// Service ids that survive restarts with no name map: recovered from the dump through the
// frontends a desired service owns.
import type { DesiredFrontend, FrontendEntry, MapsDump } from '../model.js';
import { createIdAllocator, type ReservedIds } from './id-allocator.js';
import { frontendKey } from './keys.js';

/**
 * key → id. For each desired service in key order, the ids the dump's entries at its frontends'
 * (address, port, protocol, kind) name are candidates; it takes the smallest not yet claimed.
 * Otherwise it takes the lowest id ≥ 1 the dump does not mention at all (neither a table nor a
 * frontend's target), so a fresh service never inherits a table another one still resolves to.
 * `reserved` ids (the rest of the maps, for a plan over a part) are neither recovered nor handed out.
 */
export function assignServiceIds(
  keys: readonly string[],
  frontendsByService: ReadonlyMap<string, readonly DesiredFrontend[]>,
  actualByKey: ReadonlyMap<string, readonly FrontendEntry[]>,
  actual: MapsDump,
  reserved?: ReservedIds,
): Map<string, number> {
  const allocate = createIdAllocator([...actual.services.keys(), ...actual.frontends.map((f) => f.serviceId)], reserved);
  const claimed = new Set<number>();
  const ids = new Map<string, number>();
  for (const key of [...keys].sort()) {
    let best: number | undefined;
    for (const f of frontendsByService.get(key) ?? []) {
      for (const entry of actualByKey.get(frontendKey(f)) ?? []) {
        const id = entry.serviceId;
        if (Number.isInteger(id) && id >= 1 && !claimed.has(id) && reserved?.has(id) !== true && (best === undefined || id < best)) best = id;
      }
    }
    const id = best ?? allocate();
    claimed.add(id);
    ids.set(key, id);
  }
  return ids;
}
