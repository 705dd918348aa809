// The planner for a change between two whole states: when only a few services differ from the
// last pass, plan just those (planScoped). For callers that hold two states, not the changes
// between them (the agent gets its changes from ResolverIndex and calls planScoped itself).
import type { DesiredFrontend, DesiredState, Plan } from '../model.js';
import { frontendKey } from './keys.js';
import type { MapsMirror } from './maps-mirror.js';
import type { PlanOptions } from './plan-maps.js';
import { planScoped } from './plan-scoped.js';

/** Above this share of changed services a whole plan costs about the same: planChanges declines. */
const MAX_CHANGED_SHARE = 0.25;

/**
 * The plan from `last` (applied, mirrored by `mirror`) to `next`, or undefined when too much
 * changed (then plan the whole state). The mirror must hold exactly what `last` was planned
 * to (every service's table is then reached through its frontends). Its `serviceIds` lists
 * the planned services only.
 */
export function planChanges(last: DesiredState, next: DesiredState, mirror: MapsMirror, options: Pick<PlanOptions, 'buildTable'> = {}): Plan | undefined {
  const before = frontendsByService(last.frontends);
  const after = frontendsByService(next.frontends);
  const changed = new Set<string>();
  for (const [key, service] of next.services) if (last.services.get(key) !== service) changed.add(key);
  for (const key of last.services.keys()) if (!next.services.has(key)) changed.add(key);
  for (const key of new Set([...before.keys(), ...after.keys()])) if (!sameFrontends(before.get(key), after.get(key))) changed.add(key);
  if (changed.size > Math.max(1, MAX_CHANGED_SHARE * Math.max(next.services.size, last.services.size))) return undefined;
  return planScoped(
    {
      keys: changed,
      service: (key) => next.services.get(key),
      frontends: (key) => after.get(key) ?? [],
      before: (key) => before.get(key) ?? [],
    },
    mirror,
    options,
  );
}

/** Frontends by service. */
function frontendsByService(frontends: readonly DesiredFrontend[]): ReadonlyMap<string, readonly DesiredFrontend[]> {
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
