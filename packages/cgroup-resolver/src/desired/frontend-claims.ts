// Two Services claiming one frontend — impossible through the API, possible from a malformed
// cache: the older Service keeps it, the other is told who has it.
import type { DesiredFrontend, ResolverRefusal } from '../model.js';
import { frontendKey } from '../plan/keys.js';
import { compareAge, type ObjectIdentity } from './object-ref.js';

export interface FrontendClaims {
  readonly owner: ObjectIdentity;
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
  const byKey = new Map<string, { owner: ObjectIdentity; frontend: DesiredFrontend }[]>();
  for (const c of claims) {
    for (const frontend of c.frontends) {
      const key = frontendKey(frontend);
      const list = byKey.get(key) ?? [];
      list.push({ owner: c.owner, frontend });
      byKey.set(key, list);
    }
  }
  const frontends: DesiredFrontend[] = [];
  const refusals: ResolverRefusal[] = [];
  for (const list of byKey.values()) {
    list.sort((a, b) => compareAge(a.owner, b.owner));
    const [winner, ...losers] = list;
    if (winner === undefined) continue;
    frontends.push(winner.frontend);
    const at = `${winner.frontend.address.includes(':') ? `[${winner.frontend.address}]` : winner.frontend.address}:${winner.frontend.port}/${winner.frontend.protocol}`;
    for (const l of losers) {
      refusals.push({
        object: { kind: 'Service', namespace: l.owner.namespace, name: l.owner.name },
        reason: 'FrontendConflict',
        message: `${at} is already resolved for the older Service ${winner.owner.namespace}/${winner.owner.name}; it is not resolved for this one`,
      });
    }
  }
  return { frontends, refusals };
}
