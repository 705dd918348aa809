// The resolver's "Desire" step (DESIGN.md, controller pattern): Services + EndpointSlices +
// Nodes → the frontends this node intercepts and the backend sets they resolve to. Pure: no
// I/O, no clock, never throws on malformed objects, and a function of the *set* of inputs.
import { asArray, namespacedKey, prop } from '@balanced/k8s';
import type { DesiredService, DesiredState, ResolverRefusal } from '../model.js';
import { compareFrontends } from '../plan/keys.js';
import { slicesByService } from './endpoint-slices.js';
import { settleFrontendClaims } from './frontend-claims.js';
import { nodeAddresses } from './node-addresses.js';
import { compareAge, compareText, objectIdentity } from './object-ref.js';
import { sortRefusals } from './refusals.js';
import type { ResolverInput } from './resolver-input.js';
import { serviceCandidates, type NodeContext, type ServiceCandidates } from './service-candidates.js';

/**
 * Builds what this node must resolve (semantics: DESIGN.md "cgroup-resolver", as kube-proxy
 * and Cilium implement Kubernetes). Frontends are in canonical order, services in key order,
 * refusals sorted; only services some frontend resolves to are listed.
 */
export function buildResolverState(input: ResolverInput): DesiredState {
  const slices = slicesByService(asArray(prop(input, 'endpointSlices')));
  const rawName = prop(input, 'nodeName');
  const nodeName = typeof rawName === 'string' && rawName !== '' ? rawName : undefined;
  const node: NodeContext = { nodeName, addresses: nodeAddresses(asArray(prop(input, 'nodes')), nodeName) };

  // One candidate per namespace/name: a cache holding two objects of one name (malformed) keeps
  // the older, then the one whose *output* sorts first, so input order never matters.
  const byName = new Map<string, { candidates: ServiceCandidates; text: string }>();
  for (const raw of asArray(prop(input, 'services'))) {
    const id = objectIdentity(raw);
    const key = namespacedKey(id.namespace, id.name);
    const candidates = serviceCandidates(raw, slices.get(key), node);
    const text = serialize(candidates);
    const prev = byName.get(key);
    if (prev === undefined || (compareAge(candidates.owner, prev.candidates.owner) || compareText(text, prev.text)) < 0) {
      byName.set(key, { candidates, text });
    }
  }

  const all = [...byName.values()].map((c) => c.candidates);
  const settled = settleFrontendClaims(all);
  const frontends = [...settled.frontends].sort(compareFrontends);
  const used = new Set(frontends.map((f) => f.service));
  const services: [string, DesiredService][] = [];
  for (const c of all) for (const entry of c.services) if (used.has(entry[0])) services.push(entry);
  services.sort(([a], [b]) => compareText(a, b));
  const refusals: ResolverRefusal[] = [...settled.refusals];
  for (const c of all) refusals.push(...c.refusals);
  return { services: new Map(services), frontends, refusals: sortRefusals(refusals) };
}

/** Canonical text of a candidate (plain data built in a fixed order). */
function serialize(c: ServiceCandidates): string {
  return JSON.stringify([c.owner.created, [...c.services.entries()], c.frontends, c.refusals]);
}
