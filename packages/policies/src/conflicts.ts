// Which policy owns a contested frontend, decided the same way on every agent and in the
// webhook: within one kind, the oldest policy (metadata.creationTimestamp) wins, ties by name;
// a policy that overlaps any frontend an older accepted policy holds is Conflicted, naming
// that winner. The answer depends only on the set of policies, never on the order they
// arrived in (a property test checks this).

import { compareStrings } from './compare.js';
import { overlap, policyKey, refOf, type PolicyRef } from './claims.js';
import type { Policy } from './types.js';

export type Resolution =
  | { readonly state: 'Accepted'; readonly policy: Policy }
  | {
      readonly state: 'Conflicted';
      readonly policy: Policy;
      /** The older policy that holds the frontend. */
      readonly winner: PolicyRef;
      /** What both claim, e.g. `service kube-system/kube-dns port 53/UDP`. */
      readonly frontend: string;
    };

/** The order in which policies get their frontends: oldest first, then by name (then uid, resourceVersion: unique keys only tie when the input repeats an object). */
export function claimOrder(a: Policy, b: Policy): number {
  const ta = a.meta.createdAt ?? Number.POSITIVE_INFINITY;
  const tb = b.meta.createdAt ?? Number.POSITIVE_INFINITY;
  if (ta !== tb) return ta < tb ? -1 : 1;
  return (
    compareStrings(a.meta.name, b.meta.name) ||
    compareStrings(a.meta.uid ?? '', b.meta.uid ?? '') ||
    compareStrings(a.meta.resourceVersion ?? '', b.meta.resourceVersion ?? '') ||
    compareStrings(JSON.stringify(a), JSON.stringify(b))
  );
}

/**
 * One resolution per policy (kind/name; a repeated kind/name keeps the first in claim order),
 * in claim order per kind.
 */
export function resolveConflicts(policies: readonly Policy[]): Resolution[] {
  const sorted = [...policies].sort((a, b) => compareStrings(a.kind, b.kind) || claimOrder(a, b));
  const seen = new Set<string>();
  const accepted: Policy[] = [];
  const out: Resolution[] = [];
  for (const policy of sorted) {
    const key = policyKey(refOf(policy));
    if (seen.has(key)) continue;
    seen.add(key);
    let conflict: Resolution | undefined;
    for (const holder of accepted) {
      if (holder.kind !== policy.kind) continue;
      const frontend = overlap(policy.frontend, holder.frontend);
      if (frontend !== undefined) {
        conflict = { state: 'Conflicted', policy, winner: refOf(holder), frontend };
        break;
      }
    }
    if (conflict === undefined) {
      accepted.push(policy);
      out.push({ state: 'Accepted', policy });
    } else {
      out.push(conflict);
    }
  }
  return out;
}

/** Existing policies of the candidate's kind (other names) whose frontend overlaps the candidate's. */
export function claimedBy(candidate: Policy, existing: readonly Policy[]): { holder: Policy; frontend: string }[] {
  const out: { holder: Policy; frontend: string }[] = [];
  for (const holder of [...existing].sort(claimOrder)) {
    if (holder.kind !== candidate.kind || holder.meta.name === candidate.meta.name) continue;
    const frontend = overlap(candidate.frontend, holder.frontend);
    if (frontend !== undefined) out.push({ holder, frontend });
  }
  return out;
}
