// Two Services claiming one frontend — impossible through the API, possible from a malformed
// cache: the older Service keeps it, the other is told who has it. The same rule between two
// policies of one kind (an addressMatcher on a Service's ClusterIP and a serviceMatcher on that
// Service claim the same frontend, which only the resolver, holding the Service, can see).
import type { DesiredFrontend, ResolverRefusal } from '../model.js';
import { frontendKey } from '../plan/keys.js';
import { compareAge, type ObjectIdentity } from './object-ref.js';

export interface FrontendClaims {
  readonly owner: ObjectIdentity;
  /** The owner's kind; absent: Service. */
  readonly kind?: string;
  readonly frontends: readonly DesiredFrontend[];
}

export interface SettledFrontends {
  /** The winning claims, in no particular order. */
  readonly frontends: readonly DesiredFrontend[];
  readonly refusals: readonly ResolverRefusal[];
}

/**
 * One owner per (address, port, protocol, kind): the oldest (creationTimestamp, then
 * namespace/name). Owners are assumed distinct (one entry per namespace/name).
 */
export function settleFrontendClaims(claims: readonly FrontendClaims[]): SettledFrontends {
  const byKey = new Map<string, FrontendClaim[]>();
  for (const c of claims) {
    for (const frontend of c.frontends) {
      const key = frontendKey(frontend);
      const list = byKey.get(key) ?? [];
      list.push(c.kind === undefined ? { owner: c.owner, frontend } : { owner: c.owner, kind: c.kind, frontend });
      byKey.set(key, list);
    }
  }
  const frontends: DesiredFrontend[] = [];
  const refusals: ResolverRefusal[] = [];
  for (const list of byKey.values()) {
    const settled = settleFrontend(list);
    if (settled.winner === undefined) continue;
    frontends.push(settled.winner.frontend);
    refusals.push(...settled.refusals);
  }
  return { frontends, refusals };
}

/** One Service's (or policy's) claim on one frontend key. */
export interface FrontendClaim {
  readonly owner: ObjectIdentity;
  /** The owner's kind; absent: Service. */
  readonly kind?: string;
  readonly frontend: DesiredFrontend;
}

/**
 * Who holds one (address, port, protocol, kind) among the claims on it (all on the same key,
 * distinct owners): the oldest; every other claimant is refused. The one rule for the whole
 * builder (settleFrontendClaims) and the incremental index (ResolverIndex).
 */
export function settleFrontend(claims: readonly FrontendClaim[]): { readonly winner: FrontendClaim | undefined; readonly refusals: readonly ResolverRefusal[] } {
  if (claims.length <= 1) return { winner: claims[0], refusals: NO_REFUSALS };
  const [winner, ...losers] = [...claims].sort((a, b) => compareAge(a.owner, b.owner));
  const w = winner as FrontendClaim;
  const at = `${w.frontend.address.includes(':') ? `[${w.frontend.address}]` : w.frontend.address}:${w.frontend.port}/${w.frontend.protocol}`;
  const by = { kind: w.kind ?? 'Service', ...(w.kind === undefined ? { namespace: w.owner.namespace } : {}), name: w.owner.name };
  const refusals = losers.map(
    (l): ResolverRefusal => ({
      object: { kind: l.kind ?? 'Service', ...(l.kind === undefined ? { namespace: l.owner.namespace } : {}), name: l.owner.name },
      reason: 'FrontendConflict',
      message: `${at} is already resolved for the older ${by.kind} ${w.kind === undefined ? `${w.owner.namespace}/` : ''}${w.owner.name}; it is not resolved for this one`,
      held: { frontend: at, by },
    }),
  );
  return { winner: w, refusals };
}

const NO_REFUSALS: readonly ResolverRefusal[] = Object.freeze([]);
