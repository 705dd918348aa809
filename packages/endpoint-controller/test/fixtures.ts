import type { V1EndpointSlice, V1Pod, V1Service } from '@kubernetes/client-node';

export const NODE = 'node-a';

export function pod(name: string, uid: string, ip: string | undefined, extra: { node?: string; namespace?: string; hostNetwork?: boolean; phase?: string; annotations?: Record<string, string> } = {}): V1Pod {
  return {
    metadata: { name, namespace: extra.namespace ?? 'shop', uid, ...(extra.annotations ? { annotations: extra.annotations } : {}) },
    spec: { nodeName: extra.node ?? NODE, containers: [{ name: 'app' }], ...(extra.hostNetwork ? { hostNetwork: true } : {}) },
    status: { phase: extra.phase ?? 'Running', ...(ip !== undefined ? { podIP: ip, podIPs: [{ ip }] } : {}) },
  };
}

export function service(name: string, vips: readonly string[], extra: { namespace?: string; cls?: string | null; type?: string } = {}): V1Service {
  return {
    metadata: { name, namespace: extra.namespace ?? 'shop', uid: `svc-${name}` },
    spec: {
      type: extra.type ?? 'LoadBalancer',
      ...(extra.cls === null ? {} : { loadBalancerClass: extra.cls ?? 'balanced.dev/ipvs' }),
      ports: [{ name: 'http', protocol: 'TCP', port: 80, targetPort: 80 }],
    },
    status: { loadBalancer: { ingress: vips.map((ip) => ({ ip })) } },
  };
}

export interface EndpointSpec {
  readonly address: string;
  readonly pod?: string;
  readonly uid?: string;
  readonly kind?: string;
  readonly namespace?: string;
  readonly ready?: boolean;
  readonly serving?: boolean;
  readonly terminating?: boolean;
}

export function slice(name: string, serviceName: string, endpoints: readonly EndpointSpec[], extra: { namespace?: string; addressType?: string } = {}): V1EndpointSlice {
  return {
    metadata: { name, namespace: extra.namespace ?? 'shop', labels: { 'kubernetes.io/service-name': serviceName } },
    addressType: extra.addressType ?? 'IPv4',
    ports: [{ name: 'http', protocol: 'TCP', port: 80 }],
    endpoints: endpoints.map((e) => ({
      addresses: [e.address],
      conditions: { ready: e.ready ?? true, serving: e.serving ?? true, terminating: e.terminating ?? false },
      ...(e.pod !== undefined
        ? { targetRef: { kind: e.kind ?? 'Pod', name: e.pod, ...(e.namespace ? { namespace: e.namespace } : {}), ...(e.uid ? { uid: e.uid } : {}) } }
        : {}),
    })),
  };
}
