// The planner for a change: when only a few services differ from the last pass, plan just
// those, by handing planMaps the part of the maps they touch (their frontends, tables and
// backends, from the mirror) and telling it what the rest holds (ids it must not hand out,
// backends it must not delete). One planner: the diff, ids and publish order are planMaps's.
import type { BackendEntry, DesiredFrontend, DesiredService, DesiredState, FrontendEntry, MapsDump, Plan, ServiceTable } from '../model.js';
import { frontendKey } from './keys.js';
import type { MapsMirror } from './maps-mirror.js';
import { planMaps, type PlanOptions } from './plan-maps.js';

/** Above this share of changed services a whole plan costs about the same: planChanges declines. */
const MAX_CHANGED_SHARE = 0.25;

/**
 * The plan from `last` (applied, mirrored by `mirror`) to `next`, or undefined when too much
 * changed (then plan the whole state). The mirror must hold exactly what `last` was planned
 * to (every service's table is then reached through its frontends): the agent keeps it so,
 * and re-reads the maps on every resync and after any failure. Its `serviceIds` lists the
 * planned services only.
 */
export function planChanges(last: DesiredState, next: DesiredState, mirror: MapsMirror, options: Pick<PlanOptions, 'buildTable'> = {}): Plan | undefined {
  const before = frontendsByService(last.frontends);
  const after = frontendsByService(next.frontends);
  const changed = new Set<string>();
  for (const [key, service] of next.services) if (last.services.get(key) !== service) changed.add(key);
  for (const key of last.services.keys()) if (!next.services.has(key)) changed.add(key);
  for (const key of new Set([...before.keys(), ...after.keys()])) if (!sameFrontends(before.get(key), after.get(key))) changed.add(key);
  if (changed.size > Math.max(1, MAX_CHANGED_SHARE * Math.max(next.services.size, last.services.size))) return undefined;

  // The part of the desired state that changed …
  const services = new Map<string, DesiredService>();
  const frontends: DesiredFrontend[] = [];
  for (const key of changed) {
    const s = next.services.get(key);
    if (s !== undefined) services.set(key, s);
    frontends.push(...(after.get(key) ?? []));
  }
  // … and the part of the maps it touches: its frontends (old and new), their tables and the
  // tables' backends, and the backends it will list that the maps already hold.
  const part = { frontends: new Map<string, FrontendEntry>(), services: new Map<number, ServiceTable>(), backends: new Map<number, BackendEntry>() };
  const addTable = (id: number): void => {
    const t = mirror.services.get(id);
    if (t === undefined || part.services.has(id)) return;
    part.services.set(id, t);
    for (const b of t.backendIds) {
      const e = mirror.backends.get(b);
      if (e !== undefined) part.backends.set(b, e);
    }
  };
  for (const key of changed) {
    for (const f of [...(before.get(key) ?? []), ...(after.get(key) ?? [])]) {
      const fk = frontendKey(f);
      const e = mirror.frontends.get(fk);
      if (e === undefined) continue;
      part.frontends.set(fk, e);
      addTable(e.serviceId);
    }
    for (const b of services.get(key)?.backends ?? []) {
      const id = mirror.backendId(b.address, b.port);
      const e = id === undefined ? undefined : mirror.backends.get(id);
      if (id !== undefined && e !== undefined) part.backends.set(id, e);
    }
  }
  const dump: MapsDump = { frontends: [...part.frontends.values()], services: part.services, backends: part.backends };
  // Tables of the part listing each backend: what the rest lists is the mirror's count less these.
  const listedInPart = new Map<number, number>();
  for (const t of part.services.values()) for (const b of new Set(t.backendIds)) listedInPart.set(b, (listedInPart.get(b) ?? 0) + 1);
  return planMaps({ services, frontends, refusals: [] }, dump, {
    ...options,
    rest: {
      serviceIds: { has: (id) => mirror.services.has(id) && !part.services.has(id) },
      backendIds: {
        has: (id) => mirror.backends.has(id) && (!part.backends.has(id) || mirror.tablesListing(id) > (listedInPart.get(id) ?? 0)),
      },
    },
  });
}

/**
 * Frontends by service, remembered per frontends array (a pure function's cache: the agent
 * hands each state in twice, as `next` and then as `last`).
 */
const groupings = new WeakMap<readonly DesiredFrontend[], ReadonlyMap<string, readonly DesiredFrontend[]>>();

function frontendsByService(frontends: readonly DesiredFrontend[]): ReadonlyMap<string, readonly DesiredFrontend[]> {
  const known = groupings.get(frontends);
  if (known !== undefined) return known;
  const out = new Map<string, DesiredFrontend[]>();
  for (const f of frontends) {
    const list = out.get(f.service);
    if (list === undefined) out.set(f.service, [f]);
    else list.push(f);
  }
  return out;
}

function sameFrontends(a: readonly DesiredFrontend[] | undefined, b: readonly DesiredFrontend[] | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return a.length === b.length && a.every((f, i) => f === b[i] || frontendKey(f) === frontendKey(b[i]!));
}
