// What the resolver's service keys say: a Service port (`shop/web:http/TCP IPv4`) or a policy's
// backend set (`policy LocalRedirectPolicy/node-local-dns:53/UDP IPv4`, the builder's
// policyServiceKey), and the reverse of a plan's key → id map.
import type { Plan } from '@balanced/cgroup-resolver';

export type PolicyKindName = 'LocalRedirectPolicy' | 'BalancingPolicy';

export interface PolicyRef {
  readonly kind: PolicyKindName;
  readonly name: string;
}

const POLICY_KEY = /^policy (LocalRedirectPolicy|BalancingPolicy)\/([^:]+):/;

/** The policy whose backend set this service key names; undefined for a Service's key. */
export function policyOfServiceKey(key: string): PolicyRef | undefined {
  const m = POLICY_KEY.exec(key);
  return m === null ? undefined : { kind: m[1] as PolicyKindName, name: m[2] as string };
}

/** Service id → its key, for every service of the plan. */
export function serviceNames(plan: Plan): Map<number, string> {
  return new Map([...plan.serviceIds].map(([key, id]) => [id, key]));
}
