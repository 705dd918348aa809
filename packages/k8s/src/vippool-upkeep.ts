// What keeps a VipPool's addresses served when the pool itself can no longer be read (issue 13).
// The vip-allocator never releases an address a Service holds because its pool turned invalid or
// was deleted (its allocate.ts rule 5); the directors and announcers must keep serving it too,
// and a process restart must not change that. So the pool's ranges live in the cluster, on the
// pool, not in a process:
//
// - LAST_VALID_CIDRS_ANNOTATION: the leader-elected vip-allocator copies spec.cidrs there while
//   they parse. When they stop parsing, every reader (vip-ranges.ts: director, announcer,
//   endpoint-controller) uses that copy, so a restart, or a process that joins later, keeps the
//   same ranges. An invalid spec never overwrites it.
// - ADDRESSES_IN_USE_FINALIZER: the allocator puts it on every pool, and removes it from a pool
//   being deleted only once no Service's status holds an address inside the pool's ranges. Until
//   then the pool stays (Terminating), still read by every reader; the allocator hands out no new
//   address from it. This is what `kubernetes.io/pvc-protection` does for volumes in use.
//
// Why on the pool and not "own every address a Service's status holds": status can be written by
// whoever holds services/status, and an address never inside any pool would then be announced
// over BGP. The pool is cluster-scoped and written by whoever already decides the ranges. The key
// sits outside `balanced.dev/` (as last-accepted.balanced.dev/annotations does): users write the
// spec, the system writes this.
//
// Pure and defensive: malformed objects give "nothing to do", never an exception.

import { parseIpRange, rangeContains, tryParseIp, type IpRange } from '@balanced/net';
import { asArray, asString, prop } from './read.js';

export const LAST_VALID_CIDRS_ANNOTATION = 'last-valid.balanced.dev/cidrs';
export const ADDRESSES_IN_USE_FINALIZER = 'balanced.dev/addresses-in-use';

export interface PoolCidrs {
  readonly name: string;
  readonly uid: string | undefined;
  /** spec.cidrs parsed, when every entry parses. */
  readonly ranges: IpRange[] | undefined;
  /** `spec.cidrs[1]: …`, one per problem (empty when ranges is set). */
  readonly problems: string[];
}

function parseList(cidrs: unknown, where: string): { ranges: IpRange[] | undefined; problems: string[] } {
  if (!Array.isArray(cidrs) || cidrs.length === 0) return { ranges: undefined, problems: [`${where}: must list at least one CIDR or range`] };
  const ranges: IpRange[] = [];
  const problems: string[] = [];
  // Every index, holes of a sparse array included (forEach would skip them, and the list recorded
  // from it would then read back differently).
  for (let i = 0; i < cidrs.length; i++) {
    try {
      ranges.push(parseIpRange(cidrs[i] as unknown));
    } catch (e) {
      problems.push(`${where}[${i}]: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  return problems.length > 0 ? { ranges: undefined, problems } : { ranges, problems };
}

/** The pool's name, uid and spec.cidrs. */
export function readPoolCidrs(object: unknown): PoolCidrs {
  const metadata = prop(object, 'metadata');
  return { name: asString(prop(metadata, 'name')) ?? '', uid: asString(prop(metadata, 'uid')), ...parseList(prop(prop(object, 'spec'), 'cidrs'), 'spec.cidrs') };
}

/** The ranges recorded on the pool, when the annotation is a readable, valid list. */
export function recordedPoolRanges(object: unknown): IpRange[] | undefined {
  const text = asString(prop(prop(prop(object, 'metadata'), 'annotations'), LAST_VALID_CIDRS_ANNOTATION));
  if (text === undefined) return undefined;
  let list: unknown;
  try {
    list = JSON.parse(text);
  } catch {
    return undefined;
  }
  return parseList(list, 'recorded').ranges;
}

/** The pool is being deleted (its deletionTimestamp is set). */
export function isTerminating(object: unknown): boolean {
  return asString(prop(prop(object, 'metadata'), 'deletionTimestamp')) !== undefined;
}

/** An address a Service's status holds, and which Service (`namespace/name`). */
export interface HeldAddress {
  readonly ip: string;
  readonly by: string;
}

export interface VipPoolUpkeep {
  readonly name: string;
  /** The JSON merge patch to send (guarded by the pool's resourceVersion), or undefined: nothing to write. */
  readonly patch: { readonly metadata: Readonly<Record<string, unknown>> } | undefined;
  /** What happens to the finalizer: added (live pool), kept (deleting, addresses held), removed (deleting, none held). */
  readonly finalizer: 'added' | 'kept' | 'removed' | undefined;
  /** spec.cidrs are recorded by this patch. */
  readonly recorded: boolean;
  /** Services holding an address inside the pool's ranges (`namespace/name`, sorted, unique), when deleting. */
  readonly heldBy: readonly string[];
}

/**
 * What the allocator writes on one pool, given every address Services' status holds: undefined
 * when there is nothing to write or report. A deleting pool whose ranges are unknown (never
 * valid, nothing recorded) lets its finalizer go: no address can be shown to come from it.
 */
export function vipPoolUpkeep(object: unknown, held: readonly HeldAddress[]): VipPoolUpkeep | undefined {
  const metadata = prop(object, 'metadata');
  const name = asString(prop(metadata, 'name'));
  if (name === undefined || name === '') return undefined;
  const spec = readPoolCidrs(object);
  const finalizers = asArray(prop(metadata, 'finalizers')).filter((f): f is string => typeof f === 'string');
  const has = finalizers.includes(ADDRESSES_IN_USE_FINALIZER);
  const terminating = isTerminating(object);

  const patch: Record<string, unknown> = {};
  const specText = spec.ranges === undefined ? undefined : JSON.stringify(prop(prop(object, 'spec'), 'cidrs'));
  // A pool on its way out without our finalizer is gone in a moment: nothing to record on it.
  const recorded = specText !== undefined && (!terminating || has) && asString(prop(prop(metadata, 'annotations'), LAST_VALID_CIDRS_ANNOTATION)) !== specText;
  if (recorded) patch['annotations'] = { [LAST_VALID_CIDRS_ANNOTATION]: specText };

  let finalizer: VipPoolUpkeep['finalizer'];
  let heldBy: string[] = [];
  if (!terminating && !has) {
    finalizer = 'added';
    patch['finalizers'] = [...finalizers, ADDRESSES_IN_USE_FINALIZER];
  } else if (terminating && has) {
    const ranges = spec.ranges ?? recordedPoolRanges(object) ?? [];
    const inside = (ip: string): boolean => {
      const address = tryParseIp(ip);
      return address !== undefined && ranges.some((r) => rangeContains(r, address));
    };
    heldBy = [...new Set(held.filter((h) => inside(h.ip)).map((h) => h.by))].sort();
    finalizer = heldBy.length > 0 ? 'kept' : 'removed';
    if (finalizer === 'removed') patch['finalizers'] = finalizers.filter((f) => f !== ADDRESSES_IN_USE_FINALIZER);
  }
  const writes = Object.keys(patch).length > 0;
  if (!writes && finalizer === undefined) return undefined;
  const resourceVersion = asString(prop(metadata, 'resourceVersion'));
  return {
    name,
    patch: writes ? { metadata: { ...(resourceVersion === undefined ? {} : { resourceVersion }), ...patch } } : undefined,
    finalizer,
    recorded,
    heldBy,
  };
}
