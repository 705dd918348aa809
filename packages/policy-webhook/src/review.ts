// The decisions (pure): what to say about one AdmissionRequest, given the policies the
// cluster already holds. CEL in the CRD already refused what it can express; this checks
// the rest with @balanced/policies (the same parser and conflict rules the resolver uses),
// so the webhook and every agent agree on what a policy means.

import { POLICY_GROUP, claimedBy, defaultingPatch, parsePolicy, policyKindOf, policyKey, refOf, type Policy } from '@balanced/policies';

import type { AdmissionRequest, Verdict } from './admission-review.js';

/** Why a request was refused (a metric label). */
export type DenialReason = 'invalid' | 'claimed';

export type Decision = { readonly verdict: Verdict; readonly denial?: DenialReason };

function ours(request: AdmissionRequest): boolean {
  return request.kind.group === POLICY_GROUP && policyKindOf(request.kind.kind) !== undefined && (request.operation === 'CREATE' || request.operation === 'UPDATE');
}

function parseAll(objects: readonly unknown[]): Policy[] {
  const out: Policy[] = [];
  for (const o of objects) {
    const r = parsePolicy(o);
    if (r.ok) out.push(r.policy);
  }
  return out;
}

/** Validating endpoint. `existing`: every stored policy of both kinds (as the cache holds them). */
export function validate(request: AdmissionRequest, existing: readonly unknown[]): Decision {
  if (!ours(request)) return { verdict: { allowed: true } };
  const parsed = parsePolicy(request.object);
  if (!parsed.ok) {
    const { refusal } = parsed;
    return {
      verdict: { allowed: false, code: 422, reason: 'Invalid', message: `${refusal.kind} "${refusal.name || request.name}" is invalid: ${refusal.message}` },
      denial: 'invalid',
    };
  }
  const candidate = parsed.policy;
  const others = parseAll(existing);
  let claims = claimedBy(candidate, others);
  if (request.operation === 'UPDATE') {
    // An overlap the stored version already had (two policies admitted at the same moment)
    // is not this update's doing: resolveConflicts has settled it, and refusing would block
    // every later edit of the loser, including the one that fixes it.
    const old = parsePolicy(request.oldObject);
    if (old.ok) {
      const before = new Set(claimedBy(old.policy, others).map((c) => policyKey(refOf(c.holder))));
      claims = claims.filter((c) => !before.has(policyKey(refOf(c.holder))));
    }
  }
  const [first] = claims;
  if (first !== undefined) {
    const names = claims.map((c) => `${c.holder.kind} "${c.holder.meta.name}"`);
    const holders = names.length === 1 ? names[0] : `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]}`;
    return {
      verdict: {
        allowed: false,
        code: 409,
        reason: 'Conflict',
        message: `${candidate.kind} "${candidate.meta.name}": frontend ${first.frontend} is already claimed by ${holders}: change spec.frontend to another address, Service or port, or delete ${holders} first`,
      },
      denial: 'claimed',
    };
  }
  return { verdict: { allowed: true } };
}

/** Mutating endpoint: the defaults, as a JSON Patch. Never refuses (validation does). */
export function mutate(request: AdmissionRequest): Decision {
  if (!ours(request)) return { verdict: { allowed: true } };
  return { verdict: { allowed: true, patch: defaultingPatch(request.object) } };
}
