// What the maps hold after a plan, computed without touching them: for dry runs (`balanced
// plan`) and for checking plans in tests.
import type { MapsDump, Plan } from '../model.js';
import { MapsMirror } from './maps-mirror.js';

/** Applies `plan.ops` in order to a copy of `dump` (frontends keyed by (address, port, protocol, kind)). */
export function applyToDump(dump: MapsDump, plan: Pick<Plan, 'ops'>): MapsDump {
  return MapsMirror.fromDump(dump).apply(plan.ops).toDump();
}
