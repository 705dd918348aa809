// Allocator replicas (the real startAllocator: client-node informers, Lease elector, Events,
// metrics server) against the test API server, each behind its own tagging proxy.

import { Writable } from 'node:stream';

import { TestApiServer, testKubeConfig } from '@balanced/testkit';
import { pino } from 'pino';

import { startAllocator, type AllocatorConfig, type RunningAllocator } from '../src/app.js';
import { TaggingProxy, type ProxyOptions, type RequestLog } from './tagging-proxy.js';

export const VIPPOOL_CRD = { group: 'balanced.dev', version: 'v1alpha1', plural: 'vippools', kind: 'VipPool', namespaced: false } as const;
export const LEASE = { namespace: 'kube-system', name: 'balanced-vip-allocator' } as const;

export function startApiServer(withCrd = true): Promise<TestApiServer> {
  return TestApiServer.start(withCrd ? { customResources: [VIPPOOL_CRD] } : {});
}

export interface Replica {
  readonly identity: string;
  readonly running: RunningAllocator;
  readonly proxy: TaggingProxy;
  /** pino lines (JSON), for failure messages. */
  readonly logs: string[];
  stop(): Promise<void>;
}

export const FAST_LEASE = { leaseDurationSeconds: 2, renewDeadlineSeconds: 1, retryPeriodSeconds: 0.05 } as const;

export function leaseHolder(server: TestApiServer): string | undefined {
  const lease = server.store.get('leases', LEASE.name, LEASE.namespace) as { spec?: { holderIdentity?: string } } | undefined;
  return lease?.spec?.holderIdentity;
}

export async function startReplica(server: TestApiServer, identity: string, log: RequestLog, config: Partial<AllocatorConfig> = {}, proxyOptions: ProxyOptions = {}): Promise<Replica> {
  const proxy = await TaggingProxy.start(server.url, identity, log, () => leaseHolder(server), proxyOptions);
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      logs.push(chunk.toString('utf8').trimEnd());
      done();
    },
  });
  const running = await startAllocator(
    {
      kubeConfig: testKubeConfig(proxy.url),
      leaseNamespace: LEASE.namespace,
      leaseName: LEASE.name,
      identity,
      defaultClass: false,
      metricsHost: '127.0.0.1',
      metricsPort: 0,
      resyncSeconds: 3600,
      ...FAST_LEASE,
      restartDelayMs: { min: 20, max: 200 },
      ...config,
    },
    pino({ level: 'debug' }, sink),
  );
  let stopped = false;
  return {
    identity,
    running,
    proxy,
    logs,
    async stop() {
      if (stopped) return;
      stopped = true;
      await running.stop();
      await proxy.close();
    },
  };
}

export interface ServiceSpec {
  namespace?: string;
  annotations?: Record<string, string>;
  labels?: Record<string, string>;
  type?: string;
  loadBalancerClass?: string | null;
  loadBalancerIP?: string;
  ingress?: string[];
  creationTimestamp?: string;
}

/** A Service written straight into the store (watches see it like any other change). */
export function putService(server: TestApiServer, name: string, s: ServiceSpec = {}): void {
  server.store.put('services', {
    metadata: {
      name,
      namespace: s.namespace ?? 'default',
      ...(s.annotations ? { annotations: s.annotations } : {}),
      ...(s.labels ? { labels: s.labels } : {}),
      ...(s.creationTimestamp ? { creationTimestamp: s.creationTimestamp } : {}),
    },
    spec: {
      type: s.type ?? 'LoadBalancer',
      ...(s.loadBalancerClass === null ? {} : { loadBalancerClass: s.loadBalancerClass ?? 'balanced.dev/ipvs' }),
      ...(s.loadBalancerIP ? { loadBalancerIP: s.loadBalancerIP } : {}),
      ports: [{ port: 80, protocol: 'TCP' }],
    },
    status: { loadBalancer: s.ingress ? { ingress: s.ingress.map((ip) => ({ ip })) } : {} },
  });
}

export function putPool(server: TestApiServer, name: string, spec: Record<string, unknown>): void {
  server.store.put('vippools', { apiVersion: 'balanced.dev/v1alpha1', kind: 'VipPool', metadata: { name }, spec });
}

/** namespace/name → the IPs in its status, for every Service in the store. */
export function statusIps(server: TestApiServer): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const s of server.store.list('services')) {
    const ingress = ((s['status'] as { loadBalancer?: { ingress?: Array<{ ip?: string }> } } | undefined)?.loadBalancer?.ingress ?? []).map((e) => e.ip ?? '');
    out[`${s.metadata.namespace ?? ''}/${s.metadata.name}`] = ingress;
  }
  return out;
}

export interface StoredEvent {
  reason: string;
  message: string;
  type: string;
  involvedObject: { kind: string; name: string; namespace?: string };
  source?: { host?: string };
  count?: number;
}

export function events(server: TestApiServer): StoredEvent[] {
  return server.store.list('events') as unknown as StoredEvent[];
}

/** IPs held by more than one Service right now, with their holders. */
export function duplicates(server: TestApiServer): Array<[string, string[]]> {
  const holders = new Map<string, string[]>();
  for (const [key, ips] of Object.entries(statusIps(server))) for (const ip of ips) holders.set(ip, [...(holders.get(ip) ?? []), key]);
  return [...holders].filter(([, keys]) => keys.length > 1);
}
