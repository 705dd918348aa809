// The two policy kinds as the rest of balanced reads them: every field checked, defaults
// applied, addresses in canonical text, ports paired. Field names follow DESIGN.md's schema
// (which follows Balancing's balancing.elf.io/v1beta1, so a policy ports by changing
// apiVersion).

import type { LabelSelector } from '@balanced/vip-allocator';

export type Protocol = 'TCP' | 'UDP';
export type RedirectMode = 'podEndpoint' | 'hostPort' | 'nodeProxy';
export type PolicyKind = 'LocalRedirectPolicy' | 'BalancingPolicy';

/** One `toPorts` entry. An absent or empty name reads as undefined. */
export interface PolicyPort {
  readonly port: number;
  readonly protocol: Protocol;
  readonly name?: string;
}

/** A frontend port and the backend port it is sent to (paired by name and protocol). */
export interface PortPair {
  readonly frontend: PolicyPort;
  readonly backend: PolicyPort;
}

export type Frontend =
  | { readonly type: 'address'; readonly ip: string; readonly toPorts: readonly PolicyPort[] }
  /** `toPorts` undefined = every port of the Service. */
  | { readonly type: 'service'; readonly namespace: string; readonly serviceName: string; readonly toPorts?: readonly PolicyPort[] };

export interface PolicyConfig {
  /** undefined = every node. */
  readonly nodeLabelSelector?: LabelSelector;
  readonly enableOutCluster: boolean;
}

export interface PolicyMeta {
  readonly name: string;
  readonly uid?: string;
  readonly generation?: number;
  readonly resourceVersion?: string;
  /** Milliseconds since the epoch; undefined before the API server set it (admission of a create). */
  readonly createdAt?: number;
}

interface PolicyBase {
  readonly meta: PolicyMeta;
  readonly frontend: Frontend;
  readonly config: PolicyConfig;
  /** Frontend ↔ backend port pairs; undefined while the frontend is a Service's every port (paired with its ports by name later). */
  readonly pairs?: readonly PortPair[];
}

export interface LocalRedirectPolicy extends PolicyBase {
  readonly kind: 'LocalRedirectPolicy';
  readonly backend: { readonly endpointSelector: LabelSelector; readonly toPorts: readonly PolicyPort[] };
}

export type BalancingBackend =
  | { readonly type: 'serviceEndpoint'; readonly endpointSelector: LabelSelector; readonly toPorts: readonly PolicyPort[]; readonly redirectMode: RedirectMode }
  | { readonly type: 'addressEndpoint'; readonly addresses: readonly string[]; readonly toPorts: readonly PolicyPort[] };

export interface BalancingPolicy extends PolicyBase {
  readonly kind: 'BalancingPolicy';
  readonly backend: BalancingBackend;
}

export type Policy = LocalRedirectPolicy | BalancingPolicy;

/** One thing to change, at one field (`spec.frontend.addressMatcher.ip`). */
export interface PolicyProblem {
  readonly field: string;
  /** Says what is wrong and what to change. */
  readonly message: string;
}

/** Why an object is not a usable policy. */
export interface PolicyRefusal {
  readonly kind: string;
  readonly name: string;
  readonly problems: readonly PolicyProblem[];
  /** All problems in one line: `field: message; field: message`. */
  readonly message: string;
}

export type PolicyParse = { readonly ok: true; readonly policy: Policy } | { readonly ok: false; readonly refusal: PolicyRefusal };
