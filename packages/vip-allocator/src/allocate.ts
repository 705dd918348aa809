// The allocator's pure core: from every Service (as its status says now) and the valid
// pools, decide which Service holds which address, which status entries to remove, and which
// Services cannot be served and why. The Services' status is the only memory: this runs the
// same way after a restart or a change of leader, so nothing is ever handed out twice.
//
// Rules, in the order they apply:
// 1. A foreign Service (another load-balancer class) keeps whatever it holds; addresses of
//    our pools in its status are taken.
// 2. A releasable Service (type changed away from LoadBalancer, …) loses the addresses of our
//    pools in its status. They stay taken for this pass and are free from the next one.
// 3. Our Services hold the addresses of our pools in their status, oldest Service first
//    (creationTimestamp, then namespace/name): when two claim the same address the older one
//    keeps it and the younger gets an IpConflict failure (and a new address below).
// 4. Then each of our Services gets its address, those with requests first (so that no
//    automatic pick takes an address a Service asks for), oldest first within each group:
//    - requests (balanced.dev/ip-request in order, then spec.loadBalancerIP): the address it
//      holds if it is one of them, else the first requested address that is free and inside
//      a pool it may use; nothing else;
//    - no request: the address it holds if inside a pool it may use, else the lowest free
//      address (of its family) in its automatic pools.
//    A Service whose change cannot be made (pool exhausted, requested address in use, bad
//    annotation) keeps the address it holds and gets a failure: a working Service is never
//    taken down by a failed change.
// 5. An address in the status of one of our Services that lies in no valid pool (its pool was
//    deleted, is invalid and this process never saw it valid, or no longer covers it) is kept
//    and reported (outsidePools): nothing proves it is free, and the Service is using it. It
//    moves only when the Service itself asks for another address (an ip-request without it,
//    or an ip-pool naming an existing pool). Such an address is held only when the Service
//    holds none inside our pools; the older Service keeps it when two hold it.
// Pools a Service may use: the one its balanced.dev/ip-pool names; otherwise every pool whose
// serviceSelector matches its labels or that has none. Automatic pools: the named one; else
// the autoAssign pools whose serviceSelector matches (by name), then autoAssign pools without
// a selector (by name).

import type { Address, Family } from './address.js';
import { formatAddress, isBuggyIp, parseAddress } from './address.js';
import { matchesSelector } from './label-selector.js';
import type { VipPool } from './pool.js';
import { poolAllows, poolCapacity, poolContains } from './pool.js';
import { resolvePoolReference } from '@balanced/k8s';
import type { ServiceInput } from './service-input.js';

export type FailureReason =
  | 'IpConflict'
  | 'PoolNotFound'
  | 'NoPool'
  | 'PoolExhausted'
  | 'RequestedIpUnavailable'
  | 'RequestedIpInUse'
  // Annotation problems carry the parser's reason (InvalidIpPool, InvalidIpRequest,
  // ConflictingAnnotations, InvalidLoadBalancerIP).
  | (string & {});

export interface AllocationFailure {
  readonly key: string;
  readonly namespace: string;
  readonly name: string;
  readonly uid: string;
  readonly reason: FailureReason;
  readonly message: string;
}

/** A status write: the Service's load-balancer IPs become `ips` (in this order). */
export interface StatusChange {
  readonly key: string;
  readonly namespace: string;
  readonly name: string;
  readonly uid: string;
  readonly resourceVersion: string;
  readonly role: 'ours' | 'releasable';
  /** The new list of IPs in status.loadBalancer.ingress ('' = a hostname-only entry kept). */
  readonly ips: readonly string[];
  /** Newly assigned, with its pool. */
  readonly assigned: { readonly ip: string; readonly pool: string } | undefined;
  /** IPs removed from status. */
  readonly released: readonly string[];
}

export interface PoolUsage {
  readonly pool: string;
  /** Addresses the pool can hand out. */
  readonly capacity: bigint;
  /** Of those, held by some Service once the plan is applied (foreign and released ones included). */
  readonly allocated: number;
}

/** An address of one of our Services that lies in no valid pool: kept, and reported. */
export interface OutsidePoolAddress {
  readonly key: string;
  readonly namespace: string;
  readonly name: string;
  readonly uid: string;
  readonly ip: string;
}

export interface AllocationPlan {
  /** Sorted by key. */
  readonly changes: readonly StatusChange[];
  /** Sorted by key, then reason. */
  readonly failures: readonly AllocationFailure[];
  /** Our Services' addresses once the plan is applied: key → { ip, pool }. */
  readonly assignments: ReadonlyMap<string, { readonly ip: string; readonly pool: string }>;
  /** Sorted by pool name. */
  readonly usage: readonly PoolUsage[];
  /** Addresses kept although no valid pool holds them (rule 5); sorted by key. */
  readonly outsidePools: readonly OutsidePoolAddress[];
}

export interface AllocateInput {
  readonly services: readonly ServiceInput[];
  /** Valid pools only (names unique). */
  readonly pools: readonly VipPool[];
}

interface Held {
  readonly ip: string;
  readonly address: Address;
  /** In no valid pool (rule 5). */
  readonly outside: boolean;
}

export function allocate(input: AllocateInput): AllocationPlan {
  const pools = [...input.pools].sort((a, b) => compare(a.name, b.name));
  const poolByName = new Map(pools.map((p) => [p.name, p]));
  const services = [...input.services].sort(byAge);
  const inOurPools = (a: Address): boolean => pools.some((p) => poolContains(p, a));
  /** Address text → key of the Service that has it this pass. */
  const taken = new Map<string, string>();
  const changes: StatusChange[] = [];
  const failures: AllocationFailure[] = [];
  const assignments = new Map<string, { ip: string; pool: string }>();
  const outsidePools: OutsidePoolAddress[] = [];
  const fail = (s: ServiceInput, reason: FailureReason, message: string): void => {
    failures.push({ key: s.key, namespace: s.namespace, name: s.name, uid: s.uid, reason, message });
  };

  // 1. foreign
  const foreignIps: string[] = [];
  for (const s of services) {
    if (s.role !== 'foreign') continue;
    for (const ip of s.ingress) {
      const a = parseAddress(ip);
      if (a === undefined || !inOurPools(a) || taken.has(ip)) continue;
      taken.set(ip, s.key);
      foreignIps.push(ip);
    }
  }

  // 2. releasable
  for (const s of services) {
    if (s.role !== 'releasable') continue;
    const released: string[] = [];
    for (const ip of s.ingress) {
      const a = parseAddress(ip);
      if (a === undefined || !inOurPools(a)) continue;
      released.push(ip);
      if (!taken.has(ip)) taken.set(ip, s.key);
    }
    if (released.length > 0) {
      changes.push(change(s, 'releasable', s.ingress.filter((ip) => !released.includes(ip)), undefined, released));
    }
  }

  // 3. ours: hold what the status says, oldest first
  const ours = services.filter((s) => s.role === 'ours');
  const held = new Map<string, Held>();
  const conflict = (s: ServiceInput, ip: string): boolean => {
    const owner = taken.get(ip);
    if (owner === undefined || owner === s.key) return false;
    fail(s, 'IpConflict', `${ip} is also in the status of ${owner}, which is older and keeps it; ${s.key} gets another address`);
    return true;
  };
  for (const s of ours) {
    for (const ip of s.ingress) {
      const a = parseAddress(ip);
      if (a === undefined || !inOurPools(a) || conflict(s, ip)) continue;
      taken.set(ip, s.key); // extra addresses stay taken until the write removes them
      if (!held.has(s.key)) held.set(s.key, { ip, address: a, outside: false });
    }
  }
  // 5. an address in no valid pool is held when the Service holds none inside them
  for (const s of ours) {
    if (held.has(s.key)) continue;
    for (const ip of s.ingress) {
      const a = parseAddress(ip);
      if (a === undefined || inOurPools(a) || conflict(s, ip)) continue;
      taken.set(ip, s.key);
      held.set(s.key, { ip, address: a, outside: true });
      break;
    }
  }

  // 4. ours: decide, those with requests first (an automatic pick must not take an address a
  // Service asked for by name in the same pass), oldest first within each group
  const cursors = new Map<string, bigint>();
  for (const s of [...ours.filter((x) => x.requests.length > 0), ...ours.filter((x) => x.requests.length === 0)]) {
    const current = held.get(s.key);
    const keep = (): string[] => (current === undefined ? [] : [current.ip]);
    let next: string[];
    let assigned: { ip: string; pool: string } | undefined;
    const decided = decide(s, current);
    if (decided.kind === 'assign') {
      taken.set(decided.ip, s.key);
      next = [decided.ip];
      if (decided.ip !== current?.ip) assigned = { ip: decided.ip, pool: decided.pool };
      assignments.set(s.key, { ip: decided.ip, pool: decided.pool });
    } else {
      if (decided.kind === 'fail') fail(s, decided.reason, decided.message);
      next = keep();
      if (current !== undefined) assignments.set(s.key, { ip: current.ip, pool: poolOf(current.address) ?? '' });
      if (current?.outside === true) outsidePools.push({ key: s.key, namespace: s.namespace, name: s.name, uid: s.uid, ip: current.ip });
    }
    const same = next.length === s.ingress.length && next.every((ip, i) => ip === s.ingress[i]);
    if (!same) {
      const released = s.ingress.filter((ip) => ip !== '' && !next.includes(ip));
      changes.push(change(s, 'ours', next, assigned, released));
    }
  }

  function poolOf(a: Address): string | undefined {
    return pools.find((p) => poolContains(p, a))?.name;
  }

  type Decision =
    | { kind: 'assign'; ip: string; pool: string }
    | { kind: 'fail'; reason: FailureReason; message: string }
    | { kind: 'none' };

  function decide(s: ServiceInput, current: Held | undefined): Decision {
    if (s.problems.length > 0) {
      const first = s.problems[0];
      return { kind: 'fail', reason: first?.reason ?? 'InvalidAnnotation', message: s.problems.map((p) => p.message).join('; ') };
    }
    let permitted: VipPool[];
    let automatic: VipPool[];
    if (s.pool !== undefined) {
      // A BalanceD ip-pool CIDR names the pool containing it (resolvePoolReference, @balanced/k8s).
      const named = poolByName.get(resolvePoolReference(s.pool, pools, (p) => p.name, (p, ip) => { const a = parseAddress(ip); return a !== undefined && poolContains(p, a); }) ?? s.pool);
      if (named === undefined) {
        return { kind: 'fail', reason: 'PoolNotFound', message: `VipPool "${s.pool}" (balanced.dev/ip-pool) does not exist or is invalid; known pools: ${pools.map((p) => p.name).join(', ') || 'none'}` };
      }
      permitted = [named];
      automatic = [named];
    } else {
      permitted = pools.filter((p) => p.serviceSelector === undefined || matchesSelector(p.serviceSelector, s.labels));
      automatic = [...permitted.filter((p) => p.autoAssign && p.serviceSelector !== undefined), ...permitted.filter((p) => p.autoAssign && p.serviceSelector === undefined)];
    }
    // Rule 5: an address outside every valid pool stays unless the Service asks for another.
    const asksElsewhere = s.requests.length > 0 ? current === undefined || !s.requests.includes(current.ip) : s.pool !== undefined;
    if (current?.outside === true && !asksElsewhere) return { kind: 'none' };
    const permittedPoolOf = (a: Address): VipPool | undefined => permitted.find((p) => poolAllows(p, a));

    if (s.requests.length > 0) {
      if (current !== undefined && s.requests.includes(current.ip)) {
        const p = permittedPoolOf(current.address);
        if (p !== undefined) return { kind: 'assign', ip: current.ip, pool: p.name };
      }
      const why: string[] = [];
      let inUse = false;
      for (const ip of s.requests) {
        const a = parseAddress(ip);
        const p = a === undefined ? undefined : permittedPoolOf(a);
        if (a === undefined || p === undefined) {
          why.push(`${ip} is not in ${describePools(s, permitted, a)}`);
          continue;
        }
        const owner = taken.get(ip);
        if (owner !== undefined && owner !== s.key) {
          inUse = true;
          why.push(`${ip} is in use by ${owner}`);
          continue;
        }
        return { kind: 'assign', ip, pool: p.name };
      }
      if (s.terminating) return { kind: 'none' };
      return { kind: 'fail', reason: inUse ? 'RequestedIpInUse' : 'RequestedIpUnavailable', message: `no requested address can be assigned: ${why.join('; ')}` };
    }

    if (current !== undefined) {
      const p = permittedPoolOf(current.address);
      if (p !== undefined) return { kind: 'assign', ip: current.ip, pool: p.name };
    }
    if (s.terminating) return { kind: 'none' };
    if (automatic.length === 0) {
      return {
        kind: 'fail',
        reason: 'NoPool',
        message:
          pools.length === 0
            ? 'there is no valid VipPool; create one (see example/vippools.yaml)'
            : `no VipPool hands out addresses to this Service: set balanced.dev/ip-pool, or give a pool autoAssign: true with a serviceSelector matching its labels (or none); pools: ${pools.map((p) => p.name).join(', ')}`,
      };
    }
    for (const p of automatic) {
      const a = nextFree(p, s.family);
      if (a !== undefined) return { kind: 'assign', ip: formatAddress(a), pool: p.name };
    }
    return { kind: 'fail', reason: 'PoolExhausted', message: `no free IPv${s.family} address in VipPool ${automatic.map((p) => p.name).join(', ')}` };
  }

  /** Lowest free address of the pool and family; cursors only move forward within a pass. */
  function nextFree(pool: VipPool, family: Family): Address | undefined {
    for (let i = 0; i < pool.ranges.length; i++) {
      const r = pool.ranges[i];
      if (r === undefined || r.family !== family) continue;
      const cursorKey = `${pool.name}#${i}`;
      let v = cursors.get(cursorKey) ?? r.first;
      for (; v <= r.last; v++) {
        const a: Address = { family, value: v };
        if (pool.avoidBuggyIPs && isBuggyIp(a)) continue;
        if (taken.has(formatAddress(a))) continue;
        cursors.set(cursorKey, v);
        return a;
      }
      cursors.set(cursorKey, v);
    }
    return undefined;
  }

  // Held once the plan is applied: foreign addresses and our assignments (not the released ones).
  const finalHeld = new Set<string>(foreignIps);
  for (const { ip } of assignments.values()) finalHeld.add(ip);
  const usage: PoolUsage[] = pools.map((p) => {
    let allocated = 0;
    for (const ip of finalHeld) {
      const a = parseAddress(ip);
      if (a !== undefined && poolAllows(p, a)) allocated++;
    }
    return { pool: p.name, capacity: poolCapacity(p), allocated };
  });

  changes.sort((a, b) => compare(a.key, b.key));
  failures.sort((a, b) => compare(a.key, b.key) || compare(a.reason, b.reason));
  outsidePools.sort((a, b) => compare(a.key, b.key));
  return { changes, failures, assignments, usage, outsidePools };
}

function change(s: ServiceInput, role: 'ours' | 'releasable', ips: readonly string[], assigned: StatusChange['assigned'], released: readonly string[]): StatusChange {
  return { key: s.key, namespace: s.namespace, name: s.name, uid: s.uid, resourceVersion: s.resourceVersion, role, ips, assigned, released };
}

function describePools(s: ServiceInput, permitted: readonly VipPool[], a: Address | undefined): string {
  if (s.pool !== undefined) return `VipPool ${s.pool}${a !== undefined && isBuggyIp(a) ? ' (or is a .0/.255 address the pool avoids)' : ''}`;
  if (permitted.length === 0) return 'any VipPool this Service may use';
  return `a VipPool this Service may use (${permitted.map((p) => p.name).join(', ')})${a !== undefined && isBuggyIp(a) ? ', or is a .0/.255 address the pool avoids' : ''}`;
}

function byAge(a: ServiceInput, b: ServiceInput): number {
  return a.createdAt - b.createdAt || compare(a.key, b.key) || compare(a.uid, b.uid);
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
