// Every policy's part of the desired state at once (the whole builder's policy step; the index
// runs the same pieces one policy at a time): parse, settle conflicts, then each accepted
// policy's candidates.
import type { Policy, PolicyKind } from '@balanced/policies';
import { namespacedKey } from '@balanced/k8s';
import type { ResolverRefusal } from '../model.js';
import { podSelected, policyCandidates, type PolicyCandidates, type PolicyContext } from './policy-candidates.js';
import type { PodView } from './policy-pods.js';
import { conflictRefusal, invalidPolicyRefusal, readPolicy, resolvePolicies } from './policy-read.js';

export interface PolicyInputs {
  readonly localRedirectPolicies: readonly unknown[];
  readonly balancingPolicies: readonly unknown[];
  /** The cached Service of a namespace/name key, if any. */
  readonly serviceOf: (key: string) => unknown;
  readonly pods: readonly PodView[];
  readonly ctx: PolicyContext;
}

export interface PolicyStates {
  readonly candidates: readonly PolicyCandidates[];
  /** Invalid and conflicted policies. */
  readonly refusals: readonly ResolverRefusal[];
}

export function allPolicyCandidates(inputs: PolicyInputs): PolicyStates {
  const refusals: ResolverRefusal[] = [];
  const parsed: Policy[] = [];
  const lists: [PolicyKind, readonly unknown[]][] = [
    ['LocalRedirectPolicy', inputs.localRedirectPolicies],
    ['BalancingPolicy', inputs.balancingPolicies],
  ];
  for (const [kind, list] of lists) {
    for (const raw of list) {
      const parse = readPolicy(raw, kind);
      if (parse.ok) parsed.push(parse.policy);
      else refusals.push(invalidPolicyRefusal(parse, kind));
    }
  }
  const resolutions = resolvePolicies(parsed);
  const candidates: PolicyCandidates[] = [];
  for (const policy of parsed) {
    const r = resolutions.get(policy);
    if (r === undefined) continue;
    if (r.state === 'Conflicted') {
      refusals.push(conflictRefusal(r));
      continue;
    }
    const service = policy.frontend.type === 'service' ? inputs.serviceOf(namespacedKey(policy.frontend.namespace, policy.frontend.serviceName)) : undefined;
    const pods = inputs.pods.filter((p) => podSelected(policy, p, inputs.ctx.node.nodeName));
    candidates.push(policyCandidates(policy, service, pods, inputs.ctx));
  }
  return { candidates, refusals };
}
