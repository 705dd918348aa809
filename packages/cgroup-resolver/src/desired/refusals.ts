// Refusals in one canonical order, without repeats (the same input in any order gives the same list).
import type { ResolverRefusal } from '../model.js';
import { compareText } from './object-ref.js';

function compareRefusals(a: ResolverRefusal, b: ResolverRefusal): number {
  return (
    compareText(a.object.kind, b.object.kind) ||
    compareText(a.object.namespace ?? '', b.object.namespace ?? '') ||
    compareText(a.object.name, b.object.name) ||
    compareText(a.reason, b.reason) ||
    compareText(a.message, b.message)
  );
}

/** Sorted by object, reason, message; exact repeats dropped. */
export function sortRefusals(list: readonly ResolverRefusal[]): ResolverRefusal[] {
  const sorted = [...list].sort(compareRefusals);
  return sorted.filter((r, i) => i === 0 || compareRefusals(r, sorted[i - 1] as ResolverRefusal) !== 0);
}
