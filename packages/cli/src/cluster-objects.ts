import type { V1EndpointSlice, V1Node, V1Pod, V1Service } from '@kubernetes/client-node';

/** The objects every subcommand reads, from a cluster or from manifest files. */
export interface ClusterObjects {
  readonly services: readonly V1Service[];
  readonly endpointSlices: readonly V1EndpointSlice[];
  readonly pods: readonly V1Pod[];
  readonly nodes: readonly V1Node[];
  /** VipPool custom resources, as plain JSON. */
  readonly vipPools: readonly unknown[];
  /** LocalRedirectPolicy custom resources (balanced.dev/v1alpha1), as plain JSON. */
  readonly localRedirectPolicies: readonly unknown[];
  /** BalancingPolicy custom resources (balanced.dev/v1alpha1), as plain JSON. */
  readonly balancingPolicies: readonly unknown[];
}

export const NO_OBJECTS: ClusterObjects = { services: [], endpointSlices: [], pods: [], nodes: [], vipPools: [], localRedirectPolicies: [], balancingPolicies: [] };

/** `namespace/name` of an object. */
export function objectKey(o: { metadata?: { namespace?: string; name?: string } }): string {
  return `${o.metadata?.namespace ?? ''}/${o.metadata?.name ?? ''}`;
}
