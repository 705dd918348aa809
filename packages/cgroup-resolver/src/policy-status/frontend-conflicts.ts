// The frontends of a policy the agent's builder gave to an older policy of the same kind
// (desired/frontend-claims.ts, settleFrontend: oldest wins), read back from the refusals of the
// state its last pass applied. This is how an addressMatcher on a Service's ClusterIP and a
// serviceMatcher on that Service are settled: their specs do not overlap as written (the
// webhook and resolveConflicts cannot see the Service), so only an agent knows.
//
// The refusal (reason FrontendConflict) names the holder in its message only:
// `<address>:<port>/<protocol> is already resolved for the older <Kind> <name>; …`; a test
// builds real states with the builder, so a change of that wording fails there.
import { policyKindOf, type PolicyRef } from '@balanced/policies';
import type { DesiredState } from '../model.js';
import type { FrontendConflict } from './types.js';

const HELD = /^(\S+) is already resolved for the older (\S+) (\S+);/;

export function frontendConflicts(state: DesiredState | undefined, ref: PolicyRef): FrontendConflict[] {
  const out: FrontendConflict[] = [];
  for (const r of state?.refusals ?? []) {
    if (r.reason !== 'FrontendConflict' || r.object.kind !== ref.kind || r.object.name !== ref.name) continue;
    const m = HELD.exec(r.message);
    const kind = policyKindOf(m?.[2]);
    if (m === null || kind === undefined) continue;
    out.push({ frontend: m[1]!, winner: { kind, name: m[3]! } });
  }
  return out;
}
