/** What one benchmark Service's EndpointSlice is made of: endpoints as slot → ready. */
export interface BenchSliceSpec {
  readonly name: string;
  readonly namespace: string;
  readonly serviceName: string;
  readonly port: number;
  readonly endpoints: ReadonlyMap<number, boolean>;
  readonly addressOf: (slot: number) => string;
  readonly nodeOf: (slot: number) => string;
}

/**
 * The EndpointSlice the benchmarks' API server serves (as the endpointslice-controller writes
 * it): endpoints in slot order, a not-ready endpoint neither ready nor serving, one pod per slot.
 */
export function benchEndpointSlice(spec: BenchSliceSpec): Record<string, unknown> {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: {
      name: spec.name,
      namespace: spec.namespace,
      labels: { 'kubernetes.io/service-name': spec.serviceName, 'endpointslice.kubernetes.io/managed-by': 'endpointslice-controller.k8s.io' },
    },
    addressType: 'IPv4',
    ports: [{ name: 'http', protocol: 'TCP', port: spec.port }],
    endpoints: [...spec.endpoints.entries()]
      .sort((a, b) => a[0] - b[0])
      .map(([slot, ready]) => ({
        addresses: [spec.addressOf(slot)],
        conditions: { ready, serving: ready, terminating: false },
        nodeName: spec.nodeOf(slot),
        targetRef: { kind: 'Pod', namespace: spec.namespace, name: `${spec.serviceName}-${slot}` },
      })),
  };
}
