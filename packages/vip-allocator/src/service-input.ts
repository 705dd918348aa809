// What the allocator needs to know about one Service, read defensively from whatever object
// the cache holds: who decides its status (role), what it asks for (pool, requested IPs,
// family), and what its status holds now.

import type { V1Service } from '@kubernetes/client-node';
import { Annotations, BalanceDAnnotations, LOAD_BALANCER_CLASS, isOurs, parseServiceConfig } from '@balanced/k8s';

import type { Family } from './address.js';
import { canonicalIp } from '@balanced/net';
import { asArray, asString, asStringMap, asTime, prop } from './read.js';

/**
 * - `ours`: a LoadBalancer of our class (or of no class with --default-class): we decide its status.
 * - `releasable`: not a LoadBalancer (any more), or a classless LoadBalancer while
 *   --default-class is off: addresses from our pools in its status are removed.
 * - `foreign`: a LoadBalancer of another class: never touched; addresses from our pools in
 *   its status count as taken.
 */
export type ServiceRole = 'ours' | 'releasable' | 'foreign';

export interface ConfigProblem {
  /** CamelCase, e.g. InvalidIpRequest. */
  readonly reason: string;
  readonly message: string;
}

export interface ServiceInput {
  /** namespace/name */
  readonly key: string;
  readonly namespace: string;
  readonly name: string;
  readonly uid: string;
  readonly resourceVersion: string;
  /** ms since the epoch; missing timestamps sort last. */
  readonly createdAt: number;
  readonly role: ServiceRole;
  readonly terminating: boolean;
  readonly labels: Readonly<Record<string, string>>;
  /** balanced.dev/ip-pool (or the BalanceD alias). */
  readonly pool: string | undefined;
  /** balanced.dev/ip-request in order, then spec.loadBalancerIP; canonical text, no repeats. */
  readonly requests: readonly string[];
  /** Family for an automatic address: the first of spec.ipFamilies, else IPv4. */
  readonly family: Family;
  /** Problems with the annotations or spec.loadBalancerIP: nothing new can be assigned. */
  readonly problems: readonly ConfigProblem[];
  /** status.loadBalancer.ingress[].ip, canonical where valid (as written otherwise); '' for hostname-only entries. */
  readonly ingress: readonly string[];
}

export interface DescribeOptions {
  readonly defaultClass: boolean;
}

const ALLOCATION_KEYS = [Annotations.ipPool, Annotations.ipRequest, BalanceDAnnotations.ipPool, BalanceDAnnotations.ipRequest];

export function describeService(service: V1Service, options: DescribeOptions): ServiceInput {
  const metadata = prop(service, 'metadata');
  const spec = prop(service, 'spec');
  const namespace = asString(prop(metadata, 'namespace')) ?? '';
  const name = asString(prop(metadata, 'name')) ?? '';
  const annotations = asStringMap(prop(metadata, 'annotations'));

  const problems: ConfigProblem[] = [];
  // Only the allocation annotations: a bad scheduler annotation is the directors' business
  // (they report it) and must not keep a Service from getting an address.
  const subset: Record<string, string> = {};
  for (const key of ALLOCATION_KEYS) if (annotations[key] !== undefined) subset[key] = annotations[key];
  const parsed = parseServiceConfig({ metadata: { annotations: subset } });
  let pool: string | undefined;
  const requests: string[] = [];
  if (parsed.ok) {
    pool = parsed.config.ipPool;
    for (const ip of parsed.config.ipRequest) {
      const canonical = canonicalIp(ip);
      if (canonical !== undefined && !requests.includes(canonical)) requests.push(canonical);
    }
  } else {
    for (const e of parsed.errors) problems.push({ reason: e.reason, message: e.message });
  }
  const lbIp = asString(prop(spec, 'loadBalancerIP'));
  if (lbIp !== undefined && lbIp.trim() !== '') {
    const canonical = canonicalIp(lbIp.trim());
    if (canonical === undefined) {
      problems.push({ reason: 'InvalidLoadBalancerIP', message: `spec.loadBalancerIP: "${lbIp}" is not an IP address; set an IPv4 or IPv6 address, or remove it` });
    } else if (!requests.includes(canonical)) {
      requests.push(canonical);
    }
  }

  const families = asArray(prop(spec, 'ipFamilies'));
  const family: Family = families[0] === 'IPv6' ? 6 : 4;
  const ingress = asArray(prop(prop(prop(service, 'status'), 'loadBalancer'), 'ingress')).map((entry) => {
    const ip = asString(prop(entry, 'ip'));
    if (ip === undefined || ip === '') return '';
    return canonicalIp(ip) ?? ip;
  });

  return {
    key: `${namespace}/${name}`,
    namespace,
    name,
    uid: asString(prop(metadata, 'uid')) ?? '',
    resourceVersion: asString(prop(metadata, 'resourceVersion')) ?? '',
    createdAt: asTime(prop(metadata, 'creationTimestamp')) ?? Number.MAX_SAFE_INTEGER,
    role: roleOf(service, options),
    terminating: prop(metadata, 'deletionTimestamp') !== undefined && prop(metadata, 'deletionTimestamp') !== null,
    labels: asStringMap(prop(metadata, 'labels')),
    pool,
    requests,
    family,
    problems,
    ingress,
  };
}

function roleOf(service: V1Service, options: DescribeOptions): ServiceRole {
  if (isOurs(service, options)) return 'ours';
  const spec = prop(service, 'spec');
  if (prop(spec, 'type') !== 'LoadBalancer') return 'releasable';
  const cls = prop(spec, 'loadBalancerClass');
  if (cls === undefined || cls === null || cls === '' || cls === LOAD_BALANCER_CLASS) return 'releasable';
  return 'foreign';
}
