// What a policy's frontend takes over: an address or a Service, on some ports (or every port
// of the Service). Two policies of one kind overlap when they claim the same (target, port,
// protocol); a LocalRedirectPolicy and a BalancingPolicy never conflict (the resolver's
// lookup order, redirect before balancing before the Service, decides between them).
// An address frontend equal to some Service's ClusterIP and a serviceMatcher on that Service
// are not seen as overlapping here: that needs the Service, which the resolver has.

import type { Frontend, Policy, PolicyKind, Protocol } from './types.js';

export interface FrontendClaim {
  /** `address 10.96.0.10` or `service kube-system/kube-dns`. */
  readonly target: string;
  /** undefined = every port of the Service. */
  readonly port?: number;
  readonly protocol?: Protocol;
}

export function frontendTarget(frontend: Frontend): string {
  return frontend.type === 'address' ? `address ${frontend.ip}` : `service ${frontend.namespace}/${frontend.serviceName}`;
}

export function frontendClaims(frontend: Frontend): FrontendClaim[] {
  const target = frontendTarget(frontend);
  if (frontend.toPorts === undefined) return [{ target }];
  return frontend.toPorts.map((p) => ({ target, port: p.port, protocol: p.protocol }));
}

export function describeClaim(claim: FrontendClaim): string {
  return claim.port === undefined ? `${claim.target} (every port)` : `${claim.target} port ${claim.port}/${claim.protocol ?? 'TCP'}`;
}

export function claimsOverlap(a: FrontendClaim, b: FrontendClaim): boolean {
  if (a.target !== b.target) return false;
  if (a.port === undefined || b.port === undefined) return true;
  return a.port === b.port && a.protocol === b.protocol;
}

/** The first claim of `a` that overlaps one of `b`'s (as a description), or undefined. */
export function overlap(a: Frontend, b: Frontend): string | undefined {
  const bs = frontendClaims(b);
  for (const ca of frontendClaims(a)) {
    const cb = bs.find((c) => claimsOverlap(ca, c));
    if (cb !== undefined) return describeClaim(ca.port === undefined ? cb : ca);
  }
  return undefined;
}

export interface PolicyRef {
  readonly kind: PolicyKind;
  readonly name: string;
}

export function policyKey(ref: PolicyRef): string {
  return `${ref.kind}/${ref.name}`;
}

export function refOf(policy: Policy): PolicyRef {
  return { kind: policy.kind, name: policy.meta.name };
}
