// The status a LocalRedirectPolicy or BalancingPolicy carries (deploy/policy-crds.yaml:
// status.observedGeneration, status.conditions, status.nodes), and the two ports through which
// the agent tells the status writer what only it knows.

import type { PolicyCondition, PolicyKind, PolicyRef } from '@balanced/policies';

/** Whether this agent's maps hold an accepted policy's frontends (the Programmed condition). */
export interface ProgrammedState {
  readonly status: 'True' | 'False' | 'Unknown';
  /** A condition reason: ^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$ (no names: put them in the message). */
  readonly reason: string;
  readonly message: string;
}

/**
 * A frontend an older policy of the same kind holds in the agent's maps, though the two specs do
 * not overlap as written: an addressMatcher on a Service's ClusterIP and a serviceMatcher on that
 * Service (only an agent, holding the Service, sees it; its builder keeps the older one).
 */
export interface FrontendConflict {
  /** `10.96.0.10:53/UDP`. */
  readonly frontend: string;
  readonly winner: PolicyRef;
}

/** What the agent knows that the API objects do not say. Asked only about accepted policies. */
export interface PolicyStatusPorts {
  programmed(ref: PolicyRef): ProgrammedState;
  /** Backends per node name; undefined = not computed (status.nodes is then left out). */
  backendsPerNode(ref: PolicyRef): ReadonlyMap<string, number> | undefined;
  /** Frontends of this policy the agent gave to an older policy; absent or empty: none. */
  frontendConflicts?(ref: PolicyRef): readonly FrontendConflict[];
}

export interface NodeBackends {
  readonly node: string;
  readonly backends: number;
}

/** status as written: only fields the CRD schema declares, never an undefined property. */
export interface PolicyStatus {
  readonly observedGeneration?: number;
  readonly conditions: readonly PolicyCondition[];
  readonly nodes?: readonly NodeBackends[];
}

/** Which object a status goes to, and the version it was computed from. */
export interface StatusTarget {
  readonly kind: PolicyKind;
  readonly name: string;
  /** The write is refused (409) when the object changed since; undefined = no precondition. */
  readonly resourceVersion?: string;
}
