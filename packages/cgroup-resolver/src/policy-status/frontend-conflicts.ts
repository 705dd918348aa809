// The frontends of a policy the agent's builder gave to an older policy of the same kind
// (desired/frontend-claims.ts, settleFrontend: oldest wins), read back from the refusals of the
// state its last pass applied. This is how an addressMatcher on a Service's ClusterIP and a
// serviceMatcher on that Service are settled: their specs do not overlap as written (the
// webhook and resolveConflicts cannot see the Service), so only an agent knows.
//
// The refusal (reason FrontendConflict) names the frontend and its holder in `held`.
import { policyKindOf, type PolicyRef } from '@balanced/policies';
import type { DesiredState } from '../model.js';
import type { FrontendConflict } from './types.js';

export function frontendConflicts(state: DesiredState | undefined, ref: PolicyRef): FrontendConflict[] {
  const out: FrontendConflict[] = [];
  for (const r of state?.refusals ?? []) {
    if (r.reason !== 'FrontendConflict' || r.object.kind !== ref.kind || r.object.name !== ref.name) continue;
    const kind = policyKindOf(r.held?.by.kind);
    if (r.held === undefined || kind === undefined) continue;
    out.push({ frontend: r.held.frontend, winner: { kind, name: r.held.by.name } });
  }
  return out;
}
