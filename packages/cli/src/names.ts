import type { ClusterObjects } from './cluster-objects.js';
import { objectKey } from './cluster-objects.js';

/** Kubernetes names for what the kernel holds: Service by address/port/protocol, Pod by IP. */
export interface NameIndex {
  /** `namespace/name` of the Service with this address (ClusterIP, externalIP or LoadBalancer ingress) and port. */
  service(protocol: string, address: string, port: number): string | undefined;
  /** `namespace/name` of the Pod with this IP. */
  pod(address: string): string | undefined;
}

const EMPTY: NameIndex = { service: () => undefined, pod: () => undefined };

export function nameIndex(objects: ClusterObjects | undefined): NameIndex {
  if (objects === undefined) return EMPTY;
  const services = new Map<string, string>();
  for (const s of objects.services) {
    const key = objectKey(s);
    const addresses = [
      ...(s.spec?.clusterIPs ?? (s.spec?.clusterIP !== undefined ? [s.spec.clusterIP] : [])),
      ...(s.spec?.externalIPs ?? []),
      ...(s.status?.loadBalancer?.ingress ?? []).map((i) => i.ip).filter((ip): ip is string => ip !== undefined),
    ].filter((a) => a !== '' && a !== 'None');
    for (const p of s.spec?.ports ?? []) {
      for (const a of addresses) services.set(`${(p.protocol ?? 'TCP').toLowerCase()} ${a} ${p.port}`, key);
    }
  }
  const pods = new Map<string, string>();
  for (const p of objects.pods) {
    if (p.spec?.hostNetwork === true) continue;
    for (const ip of [p.status?.podIP, ...(p.status?.podIPs ?? []).map((x) => x.ip)]) if (ip !== undefined && ip !== '') pods.set(ip, objectKey(p));
  }
  return {
    service: (protocol, address, port) => services.get(`${protocol.toLowerCase()} ${address} ${port}`),
    pod: (address) => pods.get(address),
  };
}
