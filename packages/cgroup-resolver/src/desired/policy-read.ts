// Policy objects from the caches read into policies (parsePolicy of @balanced/policies) and
// settled between themselves (resolveConflicts: within one kind the oldest holds a frontend;
// the same answer as the webhook and the status writer give). Pure, never throws.
import { POLICY_API_VERSION, parsePolicy, policyKey, refOf, resolveConflicts, type Policy, type PolicyKind, type PolicyParse, type Resolution } from '@balanced/policies';
import { asRecord, prop } from '@balanced/k8s';
import type { ResolverRefusal } from '../model.js';

/**
 * One cached object of a policy kind, parsed. An object is of the kind of the list it came from:
 * a missing `kind` / `apiVersion` (list items may lack them) reads as that kind's.
 */
export function readPolicy(raw: unknown, kind: PolicyKind): PolicyParse {
  const record = asRecord(raw);
  if (record === undefined || Array.isArray(raw)) return parsePolicy(raw);
  const apiVersion = prop(raw, 'apiVersion');
  return parsePolicy({ ...record, kind, apiVersion: apiVersion === undefined ? POLICY_API_VERSION : apiVersion });
}

/** The refusal of an object that is not a valid policy. */
export function invalidPolicyRefusal(parse: PolicyParse & { ok: false }, kind: PolicyKind): ResolverRefusal {
  return {
    object: { kind, name: parse.refusal.name },
    reason: 'InvalidPolicy',
    message: `${parse.refusal.message}; the policy is not applied`,
  };
}

/** The refusal of a policy an older one of its kind overrides. */
export function conflictRefusal(resolution: Resolution & { state: 'Conflicted' }): ResolverRefusal {
  const { policy, winner, frontend } = resolution;
  return {
    object: { kind: policy.kind, name: policy.meta.name },
    reason: 'PolicyConflict',
    message: `${frontend} is held by the older ${winner.kind} ${winner.name}; this policy is not applied`,
  };
}

/**
 * Each policy's resolution among `policies` (the whole set of valid policies of both kinds),
 * by the Policy object; a policy left out (a second object of one kind/name) has none.
 */
export function resolvePolicies(policies: readonly Policy[]): Map<Policy, Resolution> {
  const out = new Map<Policy, Resolution>();
  for (const r of resolveConflicts(policies)) out.set(r.policy, r);
  return out;
}

/** `LocalRedirectPolicy/node-local-dns`. */
export function policyName(policy: Policy): string {
  return policyKey(refOf(policy));
}
