// The VIP ranges, read from one place: the VipPool objects (the cluster cache's `vippools`
// kind), the ranges the vip-allocator hands addresses out of. A director programs, an announcer
// announces and a node's pods hold only VIPs inside them; extra CIDRs (--vip-cidr, the
// announcer's `cidrs`) may be added on top, as an override.
//
// An address a Service holds stays inside the ranges as long as the vip-allocator keeps it
// (its allocate.ts rule 5), restarts included (vippool-upkeep.ts says how and why):
// - a pool whose spec.cidrs turned invalid counts with the last valid cidrs the allocator
//   recorded on it (LAST_VALID_CIDRS_ANNOTATION); without a readable copy, with the last valid
//   ranges this process saw (same uid); with neither, it gives none;
// - a pool being deleted is still listed (Terminating) while the allocator's finalizer holds it,
//   that is while a Service's status holds an address from it, and counts like any other. Once
//   it is gone its ranges go, and what the kernel holds for them is left as it is (a component
//   touches only what it owns).
// Only spec.cidrs counts here: a pool with a wrong selector or community still holds the
// addresses the allocator gave out from it (the allocator never releases them for that).

import { Gauge, type Metric } from 'prom-client';
import { cidrContains, ipFromBigInt, ipToBigInt, parseCidr, parseIpRange, rangeCidrs, tryParseIp, type AddressFamily, type Cidr, type IpRange } from '@balanced/net';
import type { ChangeListener, ClusterCache } from './cluster-cache.js';
import type { ProbeResult } from './health.js';
import { readPoolCidrs, recordedPoolRanges } from './vippool-upkeep.js';

export interface InvalidVipPool {
  readonly name: string;
  readonly uid: string | undefined;
  /** `spec.cidrs[1]: …`, one per problem. */
  readonly problems: readonly string[];
  /**
   * Its last valid ranges are still used, from the copy the allocator recorded on the pool or
   * from this process's memory; undefined: it has none, and adds no range.
   */
  readonly keptFrom: 'recorded' | 'process' | undefined;
}

export interface VipRangeSet {
  /** The fewest CIDRs covering every range (pools and extra), IPv4 first: what iptables and BIRD take. */
  readonly cidrs: readonly Cidr[];
  /** The pools whose ranges count (valid now, or kept from their last valid version), by name. */
  readonly pools: readonly string[];
  readonly invalid: readonly InvalidVipPool[];
}

/** uid (or name) of a pool → its last valid ranges. */
export type LastValidRanges = ReadonlyMap<string, readonly IpRange[]>;

/** Overlapping and adjacent ranges joined, per family, as CIDRs. */
function coverOf(ranges: readonly IpRange[]): Cidr[] {
  const out: Cidr[] = [];
  for (const family of ['inet', 'inet6'] as const satisfies readonly AddressFamily[]) {
    const spans = ranges
      .filter((r) => r.family === family)
      .map((r) => [ipToBigInt(r.first), ipToBigInt(r.last)] as const)
      .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    const merged: [bigint, bigint][] = [];
    for (const [first, last] of spans) {
      const prev = merged[merged.length - 1];
      if (prev !== undefined && first <= prev[1] + 1n) prev[1] = last > prev[1] ? last : prev[1];
      else merged.push([first, last]);
    }
    for (const [first, last] of merged) {
      const a = ipFromBigInt(family, first);
      const b = ipFromBigInt(family, last);
      out.push(...rangeCidrs({ family, first: a, last: b, text: `${a.text}-${b.text}` }));
    }
  }
  return out;
}

/**
 * Pure: the VIP range set of the cached VipPool objects, plus `extra` CIDRs. `lastValid` is
 * what the previous call returned (pass it back: an invalid pool with no readable recorded copy
 * keeps its ranges by it).
 */
export function vipRangesFromPools(objects: readonly unknown[], extra: readonly Cidr[] = [], lastValid: LastValidRanges = new Map()): { set: VipRangeSet; lastValid: LastValidRanges } {
  const next = new Map<string, readonly IpRange[]>();
  const ranges: IpRange[] = extra.map((c) => parseIpRange(c.text));
  const pools: string[] = [];
  const invalid: InvalidVipPool[] = [];
  for (const object of objects) {
    const pool = readPoolCidrs(object);
    const key = pool.uid ?? pool.name;
    const recorded = pool.ranges === undefined ? recordedPoolRanges(object) : undefined;
    const remembered = lastValid.get(key);
    const use = pool.ranges ?? recorded ?? remembered;
    if (pool.ranges === undefined) {
      const keptFrom = recorded !== undefined ? 'recorded' : remembered !== undefined ? 'process' : undefined;
      invalid.push({ name: pool.name, uid: pool.uid, problems: pool.problems, keptFrom });
    }
    if (use === undefined) continue;
    next.set(key, use);
    ranges.push(...use);
    pools.push(pool.name);
  }
  pools.sort();
  invalid.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return { set: { cidrs: coverOf(ranges), pools, invalid }, lastValid: next };
}

/** The same CIDRs (in the same order: vipRangesFromPools sorts them). */
export function sameVipRanges(a: VipRangeSet, b: VipRangeSet): boolean {
  return a.cidrs.length === b.cidrs.length && a.cidrs.every((c, i) => c.text === b.cidrs[i]?.text);
}

export interface VipRangeWatchOptions {
  /** --vip-cidr (or the announcer's `cidrs`): owned whatever the pools say. Texts are parsed by parseCidr (throws InvalidCidrError). */
  readonly extra?: readonly (Cidr | string)[];
  /** Read the cache's VipPools (its kinds must include `vippools`). Default true; false: `extra` only. */
  readonly pools?: boolean;
  /** After the set changed (already current when called). */
  readonly onChange?: (set: VipRangeSet, previous: VipRangeSet) => void;
  /** Invalid pools, logged when the list of them changes. */
  readonly log?: { warn(fields: object, message: string): void };
}

const EMPTY: VipRangeSet = { cidrs: [], pools: [], invalid: [] };

/**
 * Keeps the VIP range set current from a cluster cache: read on every VipPool change and
 * (re)list. `owns` always answers from the current set. As a health check (HealthCheck of
 * health.ts), not ready while there is no range at all: nothing would ever be programmed.
 */
export class VipRangeWatch {
  private readonly extra: readonly Cidr[];
  private lastValid: LastValidRanges = new Map();
  private set: VipRangeSet;
  private invalidText = '';
  private readonly unsubscribe: () => void;
  private readonly cidrGauge = new Gauge({ name: 'balanced_vip_range_cidrs', help: 'CIDRs of the VIP ranges this component owns (VipPools and --vip-cidr, merged)', registers: [] });
  private readonly invalidGauge = new Gauge({
    name: 'balanced_vippools_invalid',
    help: 'VipPools whose spec.cidrs is invalid (kept="true": their last valid ranges are still owned)',
    labelNames: ['kept'] as const,
    registers: [],
  });

  constructor(
    private readonly cache: Pick<ClusterCache, 'vipPools' | 'onChange'>,
    private readonly options: VipRangeWatchOptions = {},
  ) {
    this.extra = (options.extra ?? []).map((c) => (typeof c === 'string' ? parseCidr(c) : c));
    this.set = { ...EMPTY, cidrs: vipRangesFromPools([], this.extra).set.cidrs };
    this.record();
    const listener: ChangeListener = (kind) => {
      if (kind === 'vippools') this.refresh();
    };
    this.unsubscribe = options.pools === false ? () => undefined : cache.onChange(listener);
  }

  /** The set now. */
  get current(): VipRangeSet {
    return this.set;
  }

  /** The address lies inside the current ranges. */
  readonly owns = (ip: unknown): boolean => {
    const address = tryParseIp(ip);
    return address !== undefined && this.set.cidrs.some((c) => cidrContains(c, address));
  };

  /** Read the cached pools again (the cache's listener does it on every change). */
  refresh(): void {
    if (this.options.pools === false) return;
    const previous = this.set;
    const result = vipRangesFromPools(this.cache.vipPools(), this.extra, this.lastValid);
    this.lastValid = result.lastValid;
    this.set = result.set;
    this.record();
    const invalidText = JSON.stringify(this.set.invalid);
    if (invalidText !== this.invalidText) {
      for (const p of this.set.invalid) {
        const what =
          p.keptFrom === 'recorded'
            ? 'its last valid ranges (recorded on it by the vip-allocator) are still owned'
            : p.keptFrom === 'process'
              ? 'its last valid ranges are still owned (seen by this process; none recorded on the pool: is the vip-allocator running, with patch on vippools?)'
              : 'it gives no VIP range (never valid since this process started, and no valid copy recorded on it)';
        this.options.log?.warn({ vipPool: p.name, problems: p.problems }, `VipPool ${p.name} is invalid: ${p.problems.join('; ')}; ${what}`);
      }
      this.invalidText = invalidText;
    }
    if (!sameVipRanges(previous, this.set)) this.options.onChange?.(this.set, previous);
  }

  /** Ready while some VIP range is known; the detail says where ranges come from. */
  readiness(): ProbeResult {
    if (this.set.cidrs.length > 0) return { ok: true, detail: `VIP ranges: ${this.set.cidrs.map((c) => c.text).join(', ')}` };
    const why = this.options.pools === false ? 'no --vip-cidr given and VipPools are not read' : 'no valid VipPool (balanced.dev/v1alpha1) and no --vip-cidr';
    return { ok: false, detail: `no VIP range: ${why}; nothing would be programmed` };
  }

  metrics(): readonly Metric[] {
    return [this.cidrGauge, this.invalidGauge];
  }

  stop(): void {
    this.unsubscribe();
  }

  private record(): void {
    this.cidrGauge.set(this.set.cidrs.length);
    this.invalidGauge.set({ kept: 'true' }, this.set.invalid.filter((p) => p.keptFrom !== undefined).length);
    this.invalidGauge.set({ kept: 'false' }, this.set.invalid.filter((p) => p.keptFrom === undefined).length);
  }
}
