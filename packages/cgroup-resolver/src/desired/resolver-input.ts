import type { V1EndpointSlice, V1Node, V1Pod, V1Service } from '@kubernetes/client-node';
import type { PodCgroups } from './policy-candidates.js';

/** What the resolver's desired state is built from (typed models or plain JSON, possibly malformed). */
export interface ResolverInput {
  readonly services: readonly V1Service[];
  readonly endpointSlices: readonly V1EndpointSlice[];
  readonly nodes: readonly V1Node[];
  /** This node's name; undefined = out of cluster (no local endpoints, no NodePorts). */
  readonly nodeName?: string;
  /** Pods the policies may select (every namespace, every node); absent = none. */
  readonly pods?: readonly V1Pod[];
  /** LocalRedirectPolicy objects (balanced.dev/v1alpha1); absent = none. */
  readonly localRedirectPolicies?: readonly unknown[];
  /** BalancingPolicy objects (balanced.dev/v1alpha1); absent = none. */
  readonly balancingPolicies?: readonly unknown[];
  /** Pod-level cgroup ids of this node's pods by UID; absent: none known (no LocalRedirectPolicy backend is usable). */
  readonly podCgroups?: PodCgroups;
}
