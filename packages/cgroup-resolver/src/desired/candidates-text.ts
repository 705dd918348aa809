// Telling whether a Service read again gives the same result: the canonical text of its
// candidates, and equality of node contexts. Shared by the whole builder's memo and the index.
import type { NodeContext, ServiceCandidates } from './service-candidates.js';

/** Canonical text of a candidate (plain data built in a fixed order). */
export function serializeCandidates(c: ServiceCandidates): string {
  return JSON.stringify([c.owner.created, [...c.services.entries()], c.frontends, c.refusals]);
}

/** The same node name and addresses. */
export function sameNodeContext(a: NodeContext, b: NodeContext): boolean {
  return a.nodeName === b.nodeName && JSON.stringify(a.addresses) === JSON.stringify(b.addresses);
}
