// Names the CRDs (deploy/policy-crds.yaml), the webhook and the resolver share.

import type { PolicyKind, Protocol, RedirectMode } from './types.js';

export const POLICY_GROUP = 'balanced.dev';
export const POLICY_VERSION = 'v1alpha1';
export const POLICY_API_VERSION = `${POLICY_GROUP}/${POLICY_VERSION}`;

export interface PolicyResource {
  readonly kind: PolicyKind;
  readonly plural: string;
  readonly singular: string;
  readonly shortNames: readonly string[];
}

export const POLICY_RESOURCES: Readonly<Record<PolicyKind, PolicyResource>> = {
  LocalRedirectPolicy: { kind: 'LocalRedirectPolicy', plural: 'localredirectpolicies', singular: 'localredirectpolicy', shortNames: ['lrp'] },
  BalancingPolicy: { kind: 'BalancingPolicy', plural: 'balancingpolicies', singular: 'balancingpolicy', shortNames: ['bp'] },
};

export const POLICY_KINDS: readonly PolicyKind[] = ['LocalRedirectPolicy', 'BalancingPolicy'];
export const PROTOCOLS: readonly Protocol[] = ['TCP', 'UDP'];
export const REDIRECT_MODES: readonly RedirectMode[] = ['podEndpoint', 'hostPort', 'nodeProxy'];

/** What an absent field means (the CRD schema's `default`s and the mutating webhook's patch say the same). */
export const POLICY_DEFAULTS = {
  protocol: 'TCP',
  redirectMode: 'podEndpoint',
  enableOutCluster: false,
} as const satisfies { protocol: Protocol; redirectMode: RedirectMode; enableOutCluster: boolean };

/** A policy's `kind` string, or undefined when it is not one of ours. */
export function policyKindOf(value: unknown): PolicyKind | undefined {
  return POLICY_KINDS.find((k) => k === value);
}
