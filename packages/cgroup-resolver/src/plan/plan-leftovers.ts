// The last step of a whole state planned in chunks (planScoped per chunk, each with no
// "before"): what the maps hold that no chunk touched and nothing desired names — frontends at
// keys nobody desires, tables no desired service was given, backends only those tables list.
import type { BackendEntry, FrontendEntry, MapsDump, Plan, ServiceTable } from '../model.js';
import type { MapsMirror } from './maps-mirror.js';
import { planMaps } from './plan-maps.js';

const NOTHING = { services: new Map(), frontends: [], refusals: [] } as const;

/**
 * Deletes, in publish order, of every frontend whose key is not desired, every table whose id
 * is not live (the ids the chunks gave desired services), and every backend only such tables
 * list (or none does). `removed`: every backend of every deleted table.
 */
export function planLeftovers(desiredFrontend: (frontendKey: string) => boolean, liveServiceIds: ReadonlySet<number>, mirror: MapsMirror): Plan {
  // forEach, not for…of: no [key, value] array per entry (a first pass ends here over 100,000 backends).
  const frontends: FrontendEntry[] = [];
  mirror.frontends.forEach((e, fk) => {
    if (!desiredFrontend(fk)) frontends.push(e);
  });
  const services = new Map<number, ServiceTable>();
  const staleListing = new Map<number, number>();
  mirror.services.forEach((t, id) => {
    if (liveServiceIds.has(id)) return;
    services.set(id, t);
    for (const b of new Set(t.backendIds)) staleListing.set(b, (staleListing.get(b) ?? 0) + 1);
  });
  const backends = new Map<number, BackendEntry>();
  mirror.backends.forEach((b, id) => {
    if (mirror.tablesListing(id) === 0 || staleListing.has(id)) backends.set(id, b);
  });
  const dump: MapsDump = { frontends, services, backends };
  return planMaps(NOTHING, dump, {
    rest: {
      serviceIds: { has: (id) => liveServiceIds.has(id) },
      // Listed by a table that stays: kept (in the dump only for `removed`).
      backendIds: { has: (id) => mirror.tablesListing(id) > (staleListing.get(id) ?? 0) },
    },
  });
}
