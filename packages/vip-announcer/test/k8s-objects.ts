// Small builders for the Kubernetes objects the announcer reads.
import type { V1EndpointSlice, V1Service } from '@kubernetes/client-node';

export interface ServiceSpec {
  readonly name: string;
  readonly namespace?: string;
  readonly vips: readonly string[];
  readonly ports?: readonly number[];
  readonly annotations?: Readonly<Record<string, string>>;
  readonly cls?: string | null;
  readonly created?: string;
}

export function service(s: ServiceSpec): V1Service {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: {
      name: s.name,
      namespace: s.namespace ?? 'default',
      uid: `uid-${s.namespace ?? 'default'}-${s.name}`,
      ...(s.annotations ? { annotations: { ...s.annotations } } : {}),
      ...(s.created ? { creationTimestamp: new Date(s.created) } : {}),
    },
    spec: {
      type: 'LoadBalancer',
      ...(s.cls === null ? {} : { loadBalancerClass: s.cls ?? 'balanced.dev/ipvs' }),
      ports: (s.ports ?? [80]).map((port) => ({ name: `p${port}`, protocol: 'TCP', port, targetPort: port })),
    },
    status: { loadBalancer: { ingress: s.vips.map((ip) => ({ ip })) } },
  };
}

export interface SliceSpec {
  readonly service: string;
  readonly namespace?: string;
  readonly name?: string;
  /** address → ready */
  readonly endpoints: Readonly<Record<string, boolean>>;
  readonly ports?: readonly number[];
}

export function slice(s: SliceSpec): V1EndpointSlice {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name: s.name ?? `${s.service}-abc`, namespace: s.namespace ?? 'default', labels: { 'kubernetes.io/service-name': s.service } },
    addressType: 'IPv4',
    ports: (s.ports ?? [80]).map((port) => ({ name: `p${port}`, protocol: 'TCP', port })),
    endpoints: Object.entries(s.endpoints).map(([address, ready]) => ({ addresses: [address], conditions: { ready, serving: ready, terminating: false } })),
  };
}

export function vipPool(name: string, cidrs: readonly string[], bgpCommunities: readonly string[] = []): Record<string, unknown> {
  return { apiVersion: 'balanced.dev/v1alpha1', kind: 'VipPool', metadata: { name }, spec: { cidrs: [...cidrs], bgpCommunities: [...bgpCommunities] } };
}
