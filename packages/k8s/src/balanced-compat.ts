// BalanceD compatibility: what BalanceD's user guide and controllers accept, mapped onto
// balanced's schema so a BalanceD user can migrate without editing Services or pods
// (docs/migrating-from-balanced.md):
//   - scheduler `hrw` (BalanceD's highest-random-weight scheduler, an out-of-tree kernel
//     module) runs as `mh`, the mainline kernel's consistent-hash scheduler, with a warning;
//   - `balanced.demonware.net/ip-pool` may be empty (the default pool) or a CIDR (the VipPool
//     containing that CIDR), besides a pool name;
//   - allocation-only annotations (ip-pool, ip-request) are the allocator's business: their
//     errors never make a director refuse a Service;
//   - the pod opt-out key of BalanceD's tunnel-controller, `ipvs-tunnel-controller.demonware.net/ignore`,
//     is honoured as BalanceD honoured it: present (whatever its value) means ignored.
// Imported bindings from annotations.ts are used inside functions only (the two modules import
// each other).
import type { V1Pod, V1Service } from '@kubernetes/client-node';
import { cidrRange, InvalidCidrError, parseCidr, tryParseCidr } from '@balanced/net';

import {
  Annotations,
  annotationField,
  BalanceDAnnotations,
  parseServiceConfig,
  type ParseResult,
  type ServiceConfig,
  type ServiceConfigDefaults,
} from './annotations.js';
import { asRecord, prop } from './read.js';

/** BalanceD's tunnel-controller pod opt-out key (before `balanced.demonware.net/tunnel-ignore`). */
export const LEGACY_TUNNEL_IGNORE = 'ipvs-tunnel-controller.demonware.net/ignore';

/** BalanceD's scheduler that the mainline kernel lacks, and what runs instead. */
export const BALANCED_D_SCHEDULERS: ReadonlyMap<string, string> = new Map([['hrw', 'mh']]);

/**
 * A scheduler annotation's text as balanced reads it: BalanceD's `hrw` becomes `mh` with a
 * warning (an Event on the Service); anything else is returned unchanged.
 */
export function mapBalanceDScheduler(text: string, key: string): { readonly text: string; readonly warning: string | undefined } {
  // A Map, not an object: annotation text such as "constructor" must not find inherited members.
  const mapped = BALANCED_D_SCHEDULERS.get(text.toLowerCase());
  if (mapped === undefined) return { text, warning: undefined };
  return {
    text: mapped,
    warning:
      `${key}: "${text}" (BalanceD's highest-random-weight scheduler, not in the mainline kernel) runs as ${mapped}, ` +
      `the kernel's consistent-hash scheduler with the same property (a client keeps its backend while the set is ` +
      `unchanged); set ${key}: ${mapped} to silence this warning`,
  };
}

/** What `balanced.demonware.net/ip-pool` names, as BalanceD's guide describes it. */
export type BalanceDPoolReference =
  | { readonly kind: 'default' }
  | { readonly kind: 'cidr'; readonly cidr: string }
  | { readonly kind: 'name'; readonly name: string }
  | { readonly kind: 'invalid'; readonly message: string };

/**
 * '' → the default pool; `192.168.1.0/24` → the pool containing it (canonical text); anything
 * else → a pool name. A text with a '/' (never in a pool name) must be a CIDR by @balanced/net's
 * rule: host bits set is refused with the network it probably meant, as everywhere else.
 */
export function balanceDPoolReference(text: string): BalanceDPoolReference {
  const t = text.trim();
  if (t === '') return { kind: 'default' };
  if (!t.includes('/')) return { kind: 'name', name: t };
  try {
    return { kind: 'cidr', cidr: parseCidr(t).text };
  } catch (e) {
    return { kind: 'invalid', message: e instanceof InvalidCidrError ? e.message : String(e) };
  }
}

/** A pool reference in ServiceConfig.ipPool that is a CIDR (a VipPool name never holds a '/'). */
export function isCidrPoolReference(ref: string): boolean {
  return tryParseCidr(ref) !== undefined;
}

/**
 * The VipPool a ServiceConfig.ipPool reference means: a name is itself; a CIDR (BalanceD's form)
 * is the pool that holds its first and its last address — several: the first by name.
 * Undefined when no pool holds it.
 */
export function resolvePoolReference<P>(
  ref: string,
  pools: readonly P[],
  nameOf: (pool: P) => string,
  contains: (pool: P, ip: string) => boolean,
): string | undefined {
  const cidr = tryParseCidr(ref);
  if (cidr === undefined) return ref;
  const { first, last } = cidrRange(cidr);
  const holding = pools.filter((p) => contains(p, first.text) && contains(p, last.text)).map(nameOf);
  return holding.sort()[0];
}

/** The annotation keys only the allocator acts on (ours and BalanceD's). */
function allocationOnlyKeys(): readonly string[] {
  return [Annotations.ipPool, Annotations.ipRequest, BalanceDAnnotations.ipPool, BalanceDAnnotations.ipRequest];
}

/**
 * parseServiceConfig as a director (or the announcer) reads a Service: errors in allocation-only
 * annotations are left to the allocator, which reports them as Events; the Service is refused
 * only for errors in what the directors program. Without such errors this is parseServiceConfig.
 */
export function parseForDirectors(service: V1Service, defaults: Partial<ServiceConfigDefaults> = {}): ParseResult<ServiceConfig> {
  const parsed = parseServiceConfig(service, defaults);
  if (parsed.ok) return parsed;
  const allocationFields = new Set(allocationOnlyKeys().map(annotationField));
  const others = parsed.errors.filter((e) => !allocationFields.has(e.field));
  if (others.length > 0) return { ok: false, errors: others };
  const annotations = asRecord(prop(prop(service, 'metadata'), 'annotations')) ?? {};
  const kept: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(annotations)) if (!allocationOnlyKeys().includes(k)) kept[k] = v;
  const metadata = asRecord(prop(service, 'metadata')) ?? {};
  return parseServiceConfig({ ...service, metadata: { ...metadata, annotations: kept } } as V1Service, defaults);
}

/** BalanceD's legacy pod opt-out: the key present, whatever its value (as BalanceD read it). */
export function legacyTunnelIgnore(pod: V1Pod): boolean {
  const annotations = asRecord(prop(prop(pod, 'metadata'), 'annotations'));
  return annotations !== undefined && Object.prototype.hasOwnProperty.call(annotations, LEGACY_TUNNEL_IGNORE);
}
