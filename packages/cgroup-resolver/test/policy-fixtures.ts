// Plain-JSON pods, nodes and the kube-dns Service for the policy tests, and a builder call with
// this node n1 (policies themselves: @balanced/testkit's lrp / bp).
import type { V1Node, V1Pod, V1Service } from '@kubernetes/client-node';
import { buildResolverState, type PodCgroups } from '../src/desired/index.js';
import type { DesiredService, DesiredState } from '../src/model.js';
import { service } from './desired-fixtures.js';

export interface PodSpec {
  namespace?: string;
  node?: string;
  ips?: string[];
  labels?: Record<string, string>;
  ready?: boolean;
  deleting?: boolean;
  uid?: string;
  hostIPs?: string[];
  ports?: { containerPort: number; hostPort?: number; protocol?: string }[];
}

export const NODE_LOCAL_DNS = { 'k8s-app': 'node-local-dns' };

export function pod(name: string, spec: PodSpec = {}): V1Pod {
  const ips = spec.ips ?? ['10.0.1.1'];
  const hostIPs = spec.hostIPs ?? ['192.168.0.1'];
  return {
    metadata: {
      namespace: spec.namespace ?? 'kube-system',
      name,
      uid: spec.uid ?? `uid-${name}`,
      labels: spec.labels ?? NODE_LOCAL_DNS,
      ...(spec.deleting === true ? { deletionTimestamp: '2025-01-01T00:00:00Z' } : {}),
    },
    spec: { nodeName: spec.node ?? 'n1', containers: [{ name: 'c', ports: spec.ports ?? [] }] },
    status: {
      podIP: ips[0],
      podIPs: ips.map((ip) => ({ ip })),
      hostIP: hostIPs[0],
      hostIPs: hostIPs.map((ip) => ({ ip })),
      conditions: [{ type: 'Ready', status: spec.ready === false ? 'False' : 'True' }],
    },
  } as unknown as V1Pod;
}

export function policyNode(name: string, labels: Record<string, string> = {}, annotations: Record<string, string> = {}): V1Node {
  return { metadata: { name, labels, annotations }, status: { addresses: [{ type: 'InternalIP', address: '192.168.0.1' }] } } as unknown as V1Node;
}

/** kube-system/kube-dns: dual-stack, dns 53/UDP, dns-tcp 53/TCP, metrics 9153/TCP. */
export function kubeDns(spec: Record<string, unknown> = {}): V1Service {
  return service(
    'kube-dns',
    {
      clusterIP: '10.96.0.10',
      clusterIPs: ['10.96.0.10', 'fd00::10'],
      selector: { 'k8s-app': 'kube-dns' },
      ports: [
        { name: 'dns', port: 53, protocol: 'UDP' },
        { name: 'dns-tcp', port: 53, protocol: 'TCP' },
        { name: 'metrics', port: 9153, protocol: 'TCP' },
      ],
      ...spec,
    },
    { metadata: { namespace: 'kube-system' } },
  );
}

/** Cgroups by UID: `uid-<pod>` → [id] as given. */
export function cgroupsOf(ids: Record<string, readonly bigint[]>): PodCgroups {
  return (uid) => ids[uid];
}

export interface PolicyWorld {
  services?: V1Service[];
  nodes?: V1Node[];
  pods?: V1Pod[];
  lrps?: unknown[];
  bps?: unknown[];
  /** null: out of cluster. Default n1. */
  nodeName?: string | null;
  podCgroups?: PodCgroups;
}

export function build(w: PolicyWorld): DesiredState {
  return buildResolverState({
    services: w.services ?? [kubeDns()],
    endpointSlices: [],
    nodes: w.nodes ?? [policyNode('n1')],
    pods: w.pods ?? [],
    localRedirectPolicies: w.lrps ?? [],
    balancingPolicies: w.bps ?? [],
    ...(w.nodeName === null ? {} : { nodeName: w.nodeName ?? 'n1' }),
    ...(w.podCgroups !== undefined ? { podCgroups: w.podCgroups } : {}),
  });
}

/** The service a frontend (address, port, protocol, kind) resolves to, or undefined. */
export function at(state: DesiredState, address: string, port: number, protocol: string, kind: 'redirect' | 'balancing' | 'service'): DesiredService | undefined {
  const f = state.frontends.find((x) => x.address === address && x.port === port && x.protocol === protocol && x.kind === kind);
  return f === undefined ? undefined : state.services.get(f.service);
}

export const backends = (s: DesiredService | undefined): string[] => (s?.backends ?? []).map((b) => `${b.address.includes(':') ? `[${b.address}]` : b.address}:${b.port}${b.local ? ' local' : ''}`);

export const policyFrontends = (state: DesiredState): string[] =>
  state.frontends.filter((f) => f.kind !== 'service').map((f) => `${f.kind} ${f.address.includes(':') ? `[${f.address}]` : f.address}:${f.port}/${f.protocol} → ${f.service}`);

export const reasons = (state: DesiredState): string[] => state.refusals.map((r) => `${r.object.kind}/${r.object.name} ${r.reason}`);
