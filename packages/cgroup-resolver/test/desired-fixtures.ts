// Plain-JSON Kubernetes objects for the desired-state tests (what a watch delivers).
import type { V1EndpointSlice, V1Node, V1Service } from '@kubernetes/client-node';

export interface PortSpec {
  name?: string;
  port: number;
  protocol?: string;
  nodePort?: number;
}

export function service(name: string, spec: Record<string, unknown>, extra: Record<string, unknown> = {}): V1Service {
  return {
    metadata: { namespace: 'default', name, creationTimestamp: '2024-01-01T00:00:00Z', ...((extra.metadata as object | undefined) ?? {}) },
    spec: { type: 'ClusterIP', selector: { app: name }, clusterIP: '10.96.0.10', ports: [{ name: 'http', port: 80, protocol: 'TCP' }], ...spec },
    ...(extra.status === undefined ? {} : { status: extra.status }),
  } as unknown as V1Service;
}

export interface EndpointSpec {
  ip: string;
  node?: string;
  ready?: boolean | null;
  serving?: boolean;
  terminating?: boolean;
}

export function endpoint(ip: string, conditions: Omit<EndpointSpec, 'ip' | 'node'> = {}, node?: string): EndpointSpec {
  return { ip, ...conditions, ...(node === undefined ? {} : { node }) };
}

export function slice(
  serviceName: string,
  name: string,
  addressType: 'IPv4' | 'IPv6' | 'FQDN',
  ports: { name?: string; port: number; protocol?: string }[],
  endpoints: EndpointSpec[],
): V1EndpointSlice {
  return {
    metadata: { namespace: 'default', name, labels: { 'kubernetes.io/service-name': serviceName } },
    addressType,
    ports: ports.map((p) => ({ name: p.name ?? '', port: p.port, protocol: p.protocol ?? 'TCP' })),
    endpoints: endpoints.map((e) => {
      const conditions: Record<string, unknown> = {};
      if (e.ready !== undefined) conditions.ready = e.ready;
      if (e.serving !== undefined) conditions.serving = e.serving;
      if (e.terminating !== undefined) conditions.terminating = e.terminating;
      return { addresses: [e.ip], conditions, ...(e.node === undefined ? {} : { nodeName: e.node }) };
    }),
  } as unknown as V1EndpointSlice;
}

export function node(name: string, addresses: { type: string; address: string }[]): V1Node {
  return { metadata: { name }, status: { addresses } } as unknown as V1Node;
}
