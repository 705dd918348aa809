// The conditions a policy's status carries (metav1.Condition). Accepted and Conflicted come
// from parse + resolveConflicts and are the same on every agent, except a conflict only an
// agent can see (heldFrontendConditions); Programmed (the maps hold it) and per-node backend
// counts are each agent's to report.
//
// metav1.Condition.reason must match ^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$, so it cannot
// hold a policy name (names have '-' and '.'): the reason says FrontendClaimed and the message
// names the winning policy.

import { policyKey, type PolicyRef } from './claims.js';
import type { Resolution } from './conflicts.js';
import type { Policy, PolicyRefusal } from './types.js';

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

/**
 * A frontend of a policy that an older policy of its kind holds, though the two specs do not
 * overlap as written: an addressMatcher on a Service's ClusterIP and a serviceMatcher on that
 * Service. Only an agent, which holds the Service, sees it; it settles it by the same rule
 * (oldest wins), frontend by frontend.
 */
export interface HeldFrontend {
  /** e.g. `10.96.0.10:53/UDP`. */
  readonly frontend: string;
  readonly winner: PolicyRef;
}

/**
 * Accepted + Conflicted for a policy resolveConflicts accepts but whose frontends are partly or
 * wholly held by older policies (`held`, not empty). It stays Accepted (it is valid, and what no
 * older policy holds is in effect) and is Conflicted with the same reason as a conflict the
 * specs show, the message naming each winner and what it holds.
 */
export function heldFrontendConditions(policy: Policy, held: readonly HeldFrontend[], now: string): PolicyCondition[] {
  const byWinner = new Map<string, { winner: PolicyRef; frontends: string[] }>();
  for (const h of held) {
    const key = policyKey(h.winner);
    const entry = byWinner.get(key) ?? { winner: h.winner, frontends: [] };
    if (!entry.frontends.includes(h.frontend)) entry.frontends.push(h.frontend);
    byWinner.set(key, entry);
  }
  const parts = [...byWinner.values()].map(
    ({ winner, frontends }) =>
      `${frontends.join(', ')} ${frontends.length === 1 ? 'is' : 'are'} held by ${policyKey(winner)}, which is older (an addressMatcher on a Service's ClusterIP and a serviceMatcher on that Service take the same frontend): change this policy's frontend or delete ${winner.kind} "${winner.name}"`,
  );
  const generation = policy.meta.generation;
  return [
    stamp({ type: 'Accepted', status: 'True', reason: REASONS.accepted, message: 'the policy is valid; older policies hold some of its frontend (see Conflicted), the rest is in effect' }, generation, now),
    stamp({ type: 'Conflicted', status: 'True', reason: REASONS.frontendClaimed, message: parts.join('; ') }, generation, now),
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
