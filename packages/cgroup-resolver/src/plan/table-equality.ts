// When two service tables are the same: for the programs that read them (the planner writes a
// table again only when that differs), and exactly (a mirror checked against a read of the maps).
import type { ServiceTable } from '../model.js';
import { sameSkipCgroups } from './skip-cgroups.js';

/** Equal for readers: everything but the revision. */
export function sameForReaders(a: ServiceTable, b: ServiceTable): boolean {
  return (
    a === b ||
    (a.flags === b.flags &&
      a.affinityTimeoutSeconds === b.affinityTimeoutSeconds &&
      sameSkipCgroups(a.skipCgroups, b.skipCgroups) &&
      a.backendIds.length === b.backendIds.length &&
      a.backendIds.every((id, i) => id === b.backendIds[i]) &&
      (a.slots === b.slots || (a.slots.length === b.slots.length && a.slots.every((s, i) => s === b.slots[i]))))
  );
}

/** Equal in every field the maps hold, the revision too. */
export function sameTable(a: ServiceTable, b: ServiceTable): boolean {
  return a === b || (a.revision === b.revision && sameForReaders(a, b));
}
