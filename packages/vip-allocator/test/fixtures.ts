// Builders for Services and VipPools as the API server holds them.

import type { V1Service } from '@kubernetes/client-node';

import type { VipPool } from '../src/pool.js';
import { parseVipPool } from '../src/pool.js';
import type { DescribeOptions, ServiceInput } from '../src/service-input.js';
import { describeService } from '../src/service-input.js';

export interface SvcOptions {
  namespace?: string;
  annotations?: Record<string, string>;
  labels?: Record<string, string>;
  type?: string;
  loadBalancerClass?: string | null;
  loadBalancerIP?: string;
  ipFamilies?: string[];
  ingress?: string[];
  created?: string;
  uid?: string;
  resourceVersion?: string;
  terminating?: boolean;
}

export function svc(name: string, o: SvcOptions = {}): V1Service {
  return {
    metadata: {
      name,
      namespace: o.namespace ?? 'default',
      uid: o.uid ?? `uid-${o.namespace ?? 'default'}-${name}`,
      resourceVersion: o.resourceVersion ?? '1',
      creationTimestamp: (o.created ?? '2025-01-01T00:00:00Z') as unknown as Date,
      ...(o.annotations ? { annotations: o.annotations } : {}),
      ...(o.labels ? { labels: o.labels } : {}),
      ...(o.terminating ? { deletionTimestamp: '2025-01-02T00:00:00Z' as unknown as Date, finalizers: ['x'] } : {}),
    },
    spec: {
      type: o.type ?? 'LoadBalancer',
      ...(o.loadBalancerClass === null ? {} : { loadBalancerClass: o.loadBalancerClass ?? 'balanced.dev/ipvs' }),
      ...(o.loadBalancerIP !== undefined ? { loadBalancerIP: o.loadBalancerIP } : {}),
      ...(o.ipFamilies ? { ipFamilies: o.ipFamilies } : {}),
      ports: [{ port: 80, protocol: 'TCP' }],
    },
    status: { loadBalancer: o.ingress ? { ingress: o.ingress.map((ip) => ({ ip })) } : {} },
  };
}

export function input(name: string, o: SvcOptions = {}, options: DescribeOptions = { defaultClass: false }): ServiceInput {
  return describeService(svc(name, o), options);
}

export interface PoolSpec {
  cidrs: string[];
  autoAssign?: boolean;
  avoidBuggyIPs?: boolean;
  serviceSelector?: unknown;
  bgpCommunities?: string[];
}

export function poolObject(name: string, spec: PoolSpec): object {
  return { apiVersion: 'balanced.dev/v1alpha1', kind: 'VipPool', metadata: { name, uid: `pool-${name}` }, spec };
}

export function pool(name: string, spec: PoolSpec): VipPool {
  const parsed = parseVipPool(poolObject(name, spec));
  if (!parsed.ok) throw new Error(`fixture pool ${name}: ${JSON.stringify(parsed.problems)}`);
  return parsed.pool;
}
