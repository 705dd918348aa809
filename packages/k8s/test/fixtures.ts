// Builders for the Kubernetes objects the desired-state tests feed in.
import type { V1EndpointSlice, V1Pod, V1Service } from '@kubernetes/client-node';

export interface PortOpts {
  readonly name?: string;
  readonly port: number;
  readonly protocol?: string;
}

export interface ServiceOpts {
  readonly ns?: string;
  readonly ips?: readonly string[];
  readonly ports?: readonly PortOpts[];
  readonly annotations?: Record<string, string>;
  readonly cls?: string | null;
  readonly type?: string;
  readonly uid?: string;
  readonly created?: string;
}

export function service(name: string, o: ServiceOpts = {}): V1Service {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: {
      name,
      namespace: o.ns ?? 'shop',
      ...(o.uid === undefined ? {} : { uid: o.uid }),
      ...(o.annotations === undefined ? {} : { annotations: o.annotations }),
      ...(o.created === undefined ? {} : { creationTimestamp: new Date(o.created) }),
    },
    spec: {
      type: o.type ?? 'LoadBalancer',
      ...(o.cls === null ? {} : { loadBalancerClass: o.cls ?? 'balanced.dev/ipvs' }),
      ports: (o.ports ?? [{ name: 'http', port: 80 }]).map((p) => ({ ...p, protocol: p.protocol ?? 'TCP', targetPort: p.port as never })),
    },
    status: { loadBalancer: { ingress: (o.ips ?? ['10.96.0.10']).map((ip) => ({ ip })) } },
  };
}

export interface EndpointOpts {
  readonly ip: string;
  readonly ready?: boolean;
  readonly serving?: boolean;
  readonly terminating?: boolean;
  /** pod name (namespace = the slice's); `pod/uid` sets a uid too. */
  readonly pod?: string;
}

export interface SliceOpts {
  readonly ns?: string;
  readonly addressType?: string;
  readonly ports?: readonly PortOpts[];
}

export function slice(name: string, serviceName: string, endpoints: readonly EndpointOpts[], o: SliceOpts = {}): V1EndpointSlice {
  const ns = o.ns ?? 'shop';
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name, namespace: ns, labels: { 'kubernetes.io/service-name': serviceName } },
    addressType: o.addressType ?? 'IPv4',
    ports: (o.ports ?? [{ name: 'http', port: 80 }]).map((p) => ({ ...p, protocol: p.protocol ?? 'TCP' })),
    endpoints: endpoints.map((e) => {
      const conditions: { ready?: boolean; serving?: boolean; terminating?: boolean } = {};
      if (e.ready !== undefined) conditions.ready = e.ready;
      if (e.serving !== undefined) conditions.serving = e.serving;
      if (e.terminating !== undefined) conditions.terminating = e.terminating;
      const [podName, uid] = (e.pod ?? '').split('/');
      return {
        addresses: [e.ip],
        conditions,
        ...(podName ? { targetRef: { kind: 'Pod', namespace: ns, name: podName, ...(uid ? { uid } : {}) } } : {}),
      };
    }),
  };
}

export function pod(name: string, grace: number | undefined, o: { ns?: string; uid?: string } = {}): V1Pod {
  return {
    metadata: { name, namespace: o.ns ?? 'shop', ...(o.uid === undefined ? {} : { uid: o.uid }) },
    spec: { containers: [], ...(grace === undefined ? {} : { terminationGracePeriodSeconds: grace }) },
  };
}

export const ownsAll = (): boolean => true;
