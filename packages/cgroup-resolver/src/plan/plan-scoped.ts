// The planner for a part of the desired state: plan just some services, by handing planMaps
// the part of the maps they touch (their frontends, tables and backends, from the mirror) and
// telling it what the rest holds (ids it must neither recover nor hand out, backends it must
// not delete). One planner: the diff, ids and publish order are planMaps's. Used for a change
// (planChanges, the agent's passes) and for a whole state planned in chunks (the agent's
// streamed full pass, then planLeftovers).
import type { BackendEntry, DesiredBackend, DesiredFrontend, DesiredService, FrontendEntry, MapsDump, Plan, ServiceTable } from '../model.js';
import { frontendKey } from './keys.js';
import type { MapsMirror } from './maps-mirror.js';
import { planMaps, type PlanOptions } from './plan-maps.js';

/** Which services to plan, and what they are now and were at the last plan. */
export interface PlanScope {
  /** The service keys to plan (each once). */
  readonly keys: Iterable<string>;
  /** The desired service of a key now (undefined: no longer desired). */
  service(key: string): DesiredService | undefined;
  /** Its frontends now (non-empty exactly when `service` is defined and published). */
  frontends(key: string): readonly DesiredFrontend[];
  /** Its frontends as last planned (the mirror holds them); [] when unknown (a full pass). */
  before(key: string): readonly DesiredFrontend[];
}

export interface ScopedPlanOptions extends Pick<PlanOptions, 'buildTable'> {
  /**
   * Service ids other plans of the same pass gave to other keys (earlier chunks): their tables
   * stay out of the part, and they are neither recovered nor handed out.
   */
  readonly claimed?: ReadonlySet<number>;
}

/**
 * The plan for the services of `scope` against `mirror` (what the maps hold). The mirror must
 * hold what the last plans brought the maps to, so that every table of a planned service is
 * reached through its frontends (before or now). `serviceIds` lists the planned services only.
 */
export function planScoped(scope: PlanScope, mirror: MapsMirror, options: ScopedPlanOptions = {}): Plan {
  const claimed = options.claimed;
  const keys = [...scope.keys];
  // The part of the desired state to plan …
  const services = new Map<string, DesiredService>();
  const frontends: DesiredFrontend[] = [];
  for (const key of keys) {
    const after = scope.frontends(key);
    const s = scope.service(key);
    if (s !== undefined && after.length > 0) {
      services.set(key, s);
      frontends.push(...after);
    }
  }
  // … and the part of the maps it touches: its frontends (old and new), their tables and the
  // tables' backends, and the backends it will list that the maps already hold.
  const part = { frontends: new Map<string, FrontendEntry>(), services: new Map<number, ServiceTable>(), backends: new Map<number, BackendEntry>() };
  const touch = (list: readonly DesiredFrontend[]): void => {
    for (let i = 0; i < list.length; i++) {
      const fk = frontendKey(list[i] as DesiredFrontend);
      const e = mirror.frontends.get(fk);
      if (e !== undefined) part.frontends.set(fk, e);
    }
  };
  // Indexed loops, no array per key: a first pass runs these over every backend.
  for (let k = 0; k < keys.length; k++) {
    const key = keys[k] as string;
    touch(scope.before(key));
    touch(scope.frontends(key));
    const listed = services.get(key)?.backends;
    for (let i = 0; listed !== undefined && i < listed.length; i++) {
      const b = listed[i] as DesiredBackend;
      const id = mirror.backendId(b.address, b.port);
      const e = id === undefined ? undefined : mirror.backends.get(id);
      if (id !== undefined && e !== undefined) part.backends.set(id, e);
    }
  }
  // The tables the part's frontends name, but not one a frontend outside the part still names
  // (a stale one, left to planLeftovers) nor one an earlier chunk gave its service: those stay
  // with the rest (neither recovered, nor handed out, nor deleted).
  const namedInPart = new Map<number, number>();
  for (const e of part.frontends.values()) namedInPart.set(e.serviceId, (namedInPart.get(e.serviceId) ?? 0) + 1);
  for (const [id, n] of namedInPart) {
    const t = mirror.services.get(id);
    if (t === undefined || claimed?.has(id) === true || mirror.frontendsNaming(id) > n) continue;
    part.services.set(id, t);
    for (const b of t.backendIds) {
      const e = mirror.backends.get(b);
      if (e !== undefined) part.backends.set(b, e);
    }
  }
  const dump: MapsDump = { frontends: [...part.frontends.values()], services: part.services, backends: part.backends };
  // Tables of the part listing each backend: what the rest lists is the mirror's count less these.
  const listedInPart = new Map<number, number>();
  for (const t of part.services.values()) for (const b of new Set(t.backendIds)) listedInPart.set(b, (listedInPart.get(b) ?? 0) + 1);
  return planMaps({ services, frontends, refusals: [] }, dump, {
    ...(options.buildTable ? { buildTable: options.buildTable } : {}),
    rest: {
      // Every id the mirror holds is either in the part's dump (taken) or reserved here, so the
      // mirror's first free id is where a search for a new one may start.
      serviceIds: { has: (id) => (mirror.services.has(id) && !part.services.has(id)) || claimed?.has(id) === true, floor: mirror.freeServiceIdFloor },
      backendIds: {
        has: (id) => mirror.backends.has(id) && (!part.backends.has(id) || mirror.tablesListing(id) > (listedInPart.get(id) ?? 0)),
        floor: mirror.freeBackendIdFloor,
        // … and `has` is only true for ids the mirror holds.
        ceiling: mirror.backendIdCeiling,
      },
    },
  });
}
