// The VipPool custom resource (balanced.dev/v1alpha1, cluster-scoped), parsed into the
// typed pool the allocator works with. Every problem names the field, the value and what to
// change; a pool with a problem is not used (the shell keeps its last valid version).

import type { Address, AddressRange, Family } from './address.js';
import { inRange, isBuggyIp, mergeRanges, parseRange, rangeCapacity } from './address.js';
import type { LabelSelector } from './label-selector.js';
import { isEmptySelector, parseLabelSelector } from './label-selector.js';
import { asArray, asString, prop } from './read.js';

import { VIPPOOL_GROUP, VIPPOOL_PLURAL, VIPPOOL_VERSION } from '@balanced/k8s';

export { VIPPOOL_GROUP, VIPPOOL_PLURAL, VIPPOOL_VERSION };
export const VIPPOOL_KIND = 'VipPool';
export const VIPPOOL_API_VERSION = `${VIPPOOL_GROUP}/${VIPPOOL_VERSION}`;

export interface VipPool {
  readonly name: string;
  readonly uid: string | undefined;
  /** Merged, sorted: IPv4 first. */
  readonly ranges: readonly AddressRange[];
  /** Hand addresses out to Services that did not ask for this pool. Default true. */
  readonly autoAssign: boolean;
  /** Never hand out IPv4 addresses ending in .0 or .255. Default false. */
  readonly avoidBuggyIPs: boolean;
  /** Only Services whose labels match may use the pool (unless they name it). Undefined: any. */
  readonly serviceSelector: LabelSelector | undefined;
  /** `asn:value`, for the announcer; validated here, not used by the allocator. */
  readonly bgpCommunities: readonly string[];
}

export interface PoolProblem {
  /** e.g. `spec.cidrs[1]` */
  readonly field: string;
  readonly message: string;
}

export type PoolParse =
  | { readonly ok: true; readonly pool: VipPool }
  | { readonly ok: false; readonly name: string; readonly uid: string | undefined; readonly problems: readonly PoolProblem[] };

const COMMUNITY = /^(\d{1,5}):(\d{1,5})$/;

export function parseVipPool(object: unknown): PoolParse {
  const metadata = prop(object, 'metadata');
  const name = asString(prop(metadata, 'name')) ?? '';
  const uid = asString(prop(metadata, 'uid'));
  const spec = prop(object, 'spec');
  const problems: PoolProblem[] = [];
  if (name === '') problems.push({ field: 'metadata.name', message: 'is required' });

  const ranges: AddressRange[] = [];
  const cidrs = prop(spec, 'cidrs');
  if (!Array.isArray(cidrs) || cidrs.length === 0) {
    problems.push({ field: 'spec.cidrs', message: 'must list at least one CIDR (e.g. "10.96.100.0/24") or range ("10.96.100.10-10.96.100.20")' });
  } else {
    cidrs.forEach((c: unknown, i) => {
      const parsed = parseRange(typeof c === 'string' ? c : '');
      if (parsed.ok) ranges.push(parsed.range);
      else problems.push({ field: `spec.cidrs[${i}]`, message: typeof c === 'string' ? parsed.message : 'must be a string' });
    });
  }

  const flag = (key: string, fallback: boolean): boolean => {
    const v = prop(spec, key);
    if (v === undefined || v === null) return fallback;
    if (typeof v === 'boolean') return v;
    problems.push({ field: `spec.${key}`, message: `must be true or false, got ${JSON.stringify(v)}` });
    return fallback;
  };
  const autoAssign = flag('autoAssign', true);
  const avoidBuggyIPs = flag('avoidBuggyIPs', false);

  let serviceSelector: LabelSelector | undefined;
  const rawSelector = prop(spec, 'serviceSelector');
  if (rawSelector !== undefined && rawSelector !== null) {
    const parsed = parseLabelSelector(rawSelector, 'spec.serviceSelector');
    if (parsed.ok) serviceSelector = isEmptySelector(parsed.selector) ? undefined : parsed.selector;
    else problems.push(...parsed.problems);
  }

  const bgpCommunities: string[] = [];
  asArray(prop(spec, 'bgpCommunities')).forEach((c: unknown, i) => {
    const m = typeof c === 'string' ? COMMUNITY.exec(c.trim()) : null;
    if (m === null || Number(m[1]) > 65535 || Number(m[2]) > 65535) {
      problems.push({ field: `spec.bgpCommunities[${i}]`, message: `${JSON.stringify(c)} is not a community; use asn:value with both parts 0..65535, e.g. "65000:100"` });
    } else {
      bgpCommunities.push(`${Number(m[1])}:${Number(m[2])}`);
    }
  });

  if (problems.length > 0) return { ok: false, name, uid, problems };
  return { ok: true, pool: { name, uid, ranges: mergeRanges(ranges), autoAssign, avoidBuggyIPs, serviceSelector, bgpCommunities } };
}

/** The pool can hand out this address (inside a range, and not a buggy one if it avoids them). */
export function poolAllows(pool: VipPool, address: Address): boolean {
  if (pool.avoidBuggyIPs && isBuggyIp(address)) return false;
  return pool.ranges.some((r) => inRange(r, address));
}

/** The address lies inside one of the pool's ranges (buggy or not). */
export function poolContains(pool: VipPool, address: Address): boolean {
  return pool.ranges.some((r) => inRange(r, address));
}

/** Addresses the pool can hand out (per family, or all). */
export function poolCapacity(pool: VipPool, family?: Family): bigint {
  let total = 0n;
  for (const r of pool.ranges) if (family === undefined || r.family === family) total += rangeCapacity(r, pool.avoidBuggyIPs);
  return total;
}

export function describeProblems(problems: readonly PoolProblem[]): string {
  return problems.map((p) => `${p.field}: ${p.message}`).join('; ');
}
