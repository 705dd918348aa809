// A service's skip list (bpf/resolver.h, service_header.skip_cgroups) as its table holds it:
// cgroup ids ascending, without repeats, at most MAX_SKIP_CGROUPS.
import type { DesiredService } from '../model.js';
import { MAX_SKIP_CGROUPS } from '../maps/layout.js';
import { PlanInputError } from './plan-errors.js';

const NONE: readonly bigint[] = Object.freeze([]);
const MAX_U64 = 0xffff_ffff_ffff_ffffn;

/**
 * The table's skip list for a desired service: its `skipCgroups` sorted and deduplicated
 * (the same array when it already is; one shared empty array when there is none).
 * @throws PlanInputError on an id outside 1..2^64-1 or more than MAX_SKIP_CGROUPS distinct
 *   ids (the builder keeps the first ones and reports a refusal: never built by it).
 */
export function tableSkipCgroups(service: DesiredService): readonly bigint[] {
  const ids = service.skipCgroups;
  if (ids === undefined || ids.length === 0) return NONE;
  for (const id of ids) {
    if (typeof id !== 'bigint' || id < 1n || id > MAX_U64) throw new PlanInputError(`service ${service.key}: skip cgroup id ${String(id)} is not in 1..2^64-1`);
  }
  const canonical = ids.every((id, i) => i === 0 || (ids[i - 1] as bigint) < id) ? ids : [...new Set(ids)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  if (canonical.length > MAX_SKIP_CGROUPS) {
    throw new PlanInputError(`service ${service.key}: ${canonical.length} skip cgroup ids, a service table holds at most ${MAX_SKIP_CGROUPS}`);
  }
  return canonical;
}

/** Same ids in the same order. */
export function sameSkipCgroups(a: readonly bigint[], b: readonly bigint[]): boolean {
  return a === b || (a.length === b.length && a.every((id, i) => id === b[i]));
}
