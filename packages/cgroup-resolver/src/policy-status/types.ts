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

/** What the agent knows that the API objects do not say. Asked only about accepted policies. */
export interface PolicyStatusPorts {
  programmed(ref: PolicyRef): ProgrammedState;
  /** Backends per node name; undefined = not computed (status.nodes is then left out). */
  backendsPerNode(ref: PolicyRef): ReadonlyMap<string, number> | undefined;
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
