import type { V1EndpointSlice, V1Node, V1Service } from '@kubernetes/client-node';

/** What the resolver's desired state is built from (typed models or plain JSON, possibly malformed). */
export interface ResolverInput {
  readonly services: readonly V1Service[];
  readonly endpointSlices: readonly V1EndpointSlice[];
  readonly nodes: readonly V1Node[];
  /** This node's name; undefined = out of cluster (no local endpoints, no NodePorts). */
  readonly nodeName?: string;
}
