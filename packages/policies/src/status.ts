// The conditions a policy's status carries (metav1.Condition). Accepted and Conflicted come
// from parse + resolveConflicts and are the same on every agent; Programmed (the maps hold
// it) and per-node backend counts are each agent's to report.
//
// metav1.Condition.reason must match ^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$, so it cannot
// hold a policy name (names have '-' and '.'): the reason says FrontendClaimed and the message
// names the winning policy.

import { policyKey } from './claims.js';
import type { Resolution } from './conflicts.js';
import type { PolicyRefusal } from './types.js';

export type ConditionType = 'Accepted' | 'Programmed' | 'Conflicted';

export interface PolicyCondition {
  readonly type: ConditionType;
  readonly status: 'True' | 'False' | 'Unknown';
  readonly reason: string;
  readonly message: string;
  readonly observedGeneration?: number;
  /** RFC 3339. */
  readonly lastTransitionTime: string;
}

export const REASONS = {
  accepted: 'Accepted',
  invalid: 'Invalid',
  frontendClaimed: 'FrontendClaimed',
  noConflict: 'NoConflict',
} as const;

function stamp(c: Omit<PolicyCondition, 'lastTransitionTime' | 'observedGeneration'>, generation: number | undefined, now: string): PolicyCondition {
  return { ...c, ...(generation !== undefined ? { observedGeneration: generation } : {}), lastTransitionTime: now };
}

/** Accepted + Conflicted for a policy that parsed (`now`: RFC 3339 time for lastTransitionTime). */
export function resolutionConditions(resolution: Resolution, now: string): PolicyCondition[] {
  const generation = resolution.policy.meta.generation;
  if (resolution.state === 'Accepted') {
    return [
      stamp({ type: 'Accepted', status: 'True', reason: REASONS.accepted, message: 'the policy is valid and holds its frontend' }, generation, now),
      stamp({ type: 'Conflicted', status: 'False', reason: REASONS.noConflict, message: 'no older policy claims this frontend' }, generation, now),
    ];
  }
  const message = `${resolution.frontend} is held by ${policyKey(resolution.winner)}, which is older: change this policy's frontend or delete ${resolution.winner.kind} "${resolution.winner.name}"`;
  return [
    stamp({ type: 'Accepted', status: 'False', reason: REASONS.frontendClaimed, message }, generation, now),
    stamp({ type: 'Conflicted', status: 'True', reason: REASONS.frontendClaimed, message }, generation, now),
  ];
}

/** Accepted=False for an object that did not parse. */
export function refusalConditions(refusal: PolicyRefusal, generation: number | undefined, now: string): PolicyCondition[] {
  return [stamp({ type: 'Accepted', status: 'False', reason: REASONS.invalid, message: refusal.message }, generation, now)];
}

/** Merge new conditions into existing ones, keeping lastTransitionTime when the status did not change. */
export function mergeConditions(existing: readonly PolicyCondition[], updates: readonly PolicyCondition[]): PolicyCondition[] {
  const out = existing.filter((c) => !updates.some((u) => u.type === c.type));
  for (const u of updates) {
    const old = existing.find((c) => c.type === u.type);
    out.push(old !== undefined && old.status === u.status ? { ...u, lastTransitionTime: old.lastTransitionTime } : u);
  }
  return out.sort((a, b) => (a.type < b.type ? -1 : a.type > b.type ? 1 : 0));
}
