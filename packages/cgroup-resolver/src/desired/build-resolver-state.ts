// The resolver's "Desire" step (DESIGN.md, controller pattern): Services + EndpointSlices +
// Nodes (+ Pods, LocalRedirectPolicies, BalancingPolicies) → the frontends this node intercepts
// and the backend sets they resolve to. Pure: no I/O, no clock, never throws on malformed
// objects, and a function of the *set* of inputs (and of the podCgroups lookup it is given).
import { asArray, namespacedKey, project, prop } from '@balanced/k8s';
import { SERVICE_SHAPE } from '../cache-fields.js';
import type { DesiredService, DesiredState, ResolverRefusal } from '../model.js';
import { compareFrontends } from '../plan/keys.js';
import { readSlice, slicesByService, type SliceView } from './endpoint-slices.js';
import { settleFrontendClaims } from './frontend-claims.js';
import { nodeAddresses } from './node-addresses.js';
import { canonicalText, compareAge, compareText, objectIdentity } from './object-ref.js';
import { sortRefusals } from './refusals.js';
import type { PodCgroups } from './policy-candidates.js';
import { policyNodeContext, readPolicyNode } from './policy-nodes.js';
import { readPod, type PodView } from './policy-pods.js';
import { allPolicyCandidates } from './policy-state.js';
import { sameNodeContext, serializeCandidates } from './candidates-text.js';
import type { ResolverInput } from './resolver-input.js';
import { serviceCandidates, type NodeContext, type ServiceCandidates } from './service-candidates.js';

/**
 * Builds what this node must resolve (semantics: DESIGN.md "cgroup-resolver", as kube-proxy
 * and Cilium implement Kubernetes). Frontends are in canonical order, services in key order,
 * refusals sorted; only services some frontend resolves to are listed.
 */
/** The text of what the resolver reads of a Service (the last tie-break between two of one name). */
function readText(service: unknown): string {
  return canonicalText(project(service, SERVICE_SHAPE));
}

export function buildResolverState(input: ResolverInput): DesiredState {
  return createResolverStateBuilder()(input);
}

/** A {@link buildResolverState} that remembers its work between calls. */
export type ResolverStateBuilder = (input: ResolverInput) => DesiredState;

interface Remembered {
  /** namespace/name of the Service object. */
  readonly key: string;
  readonly slices: readonly SliceView[] | undefined;
  readonly node: NodeContext;
  readonly candidates: ServiceCandidates;
  readonly text: string;
}

/**
 * A builder for a long-lived caller (the agent): the same output as buildResolverState, but a
 * Service whose object, EndpointSlice objects and node context are the very same as in the last
 * call is not read again (an informer cache replaces an object when it changes, so identity
 * means "unchanged"). What it remembers is keyed weakly by those objects: it goes when they go.
 */
export function createResolverStateBuilder(): ResolverStateBuilder {
  const sliceViews = new WeakMap<object, SliceView | undefined>();
  const podViews = new WeakMap<object, PodView | undefined>();
  const remembered = new WeakMap<object, Remembered>();
  let lastNode: NodeContext | undefined;
  const readRemembered = (raw: unknown): SliceView | undefined => {
    if (raw === null || typeof raw !== 'object') return readSlice(raw);
    if (sliceViews.has(raw)) return sliceViews.get(raw);
    const view = readSlice(raw);
    sliceViews.set(raw, view);
    return view;
  };
  return (input) => {
    const slices = slicesByService(asArray(prop(input, 'endpointSlices')), readRemembered);
    const rawName = prop(input, 'nodeName');
    const nodeName = typeof rawName === 'string' && rawName !== '' ? rawName : undefined;
    const fresh: NodeContext = { nodeName, addresses: nodeAddresses(asArray(prop(input, 'nodes')), nodeName) };
    const node = lastNode !== undefined && sameNodeContext(lastNode, fresh) ? lastNode : fresh;
    lastNode = node;

    // One candidate per namespace/name: a cache holding two objects of one name (malformed) keeps
    // the older, then the one whose *output* sorts first, then (policies read the object) the one
    // whose text sorts first, so input order never matters. That text is of what the resolver
    // reads (the cache's projection): the choice is the same whether the cache projected or not.
    const byName = new Map<string, { candidates: ServiceCandidates; text: string; raw: unknown }>();
    for (const raw of asArray(prop(input, 'services'))) {
      const isObject = raw !== null && typeof raw === 'object';
      const last = isObject ? remembered.get(raw) : undefined;
      const key = last?.key ?? keyOf(raw);
      const mine = slices.get(key);
      let entry = last;
      if (entry === undefined || entry.node !== node || !sameViews(entry.slices, mine)) {
        entry = rememberCandidates(key, raw, mine, node);
        if (isObject) remembered.set(raw, entry);
      }
      const prev = byName.get(key);
      if (
        prev === undefined ||
        (compareAge(entry.candidates.owner, prev.candidates.owner) || compareText(entry.text, prev.text) || compareText(readText(raw), readText(prev.raw))) < 0
      ) {
        byName.set(key, { candidates: entry.candidates, text: entry.text, raw });
      }
    }

    const pods: PodView[] = [];
    for (const raw of asArray(prop(input, 'pods'))) {
      let view: PodView | undefined;
      if (raw !== null && typeof raw === 'object') {
        view = podViews.has(raw) ? podViews.get(raw) : readPod(raw);
        podViews.set(raw, view);
      } else view = readPod(raw);
      if (view !== undefined) pods.push(view);
    }
    const lookup = prop(input, 'podCgroups');
    const podCgroups: PodCgroups = typeof lookup === 'function' ? (lookup as PodCgroups) : () => undefined;
    const policies = allPolicyCandidates({
      localRedirectPolicies: asArray(prop(input, 'localRedirectPolicies')),
      balancingPolicies: asArray(prop(input, 'balancingPolicies')),
      serviceOf: (key) => byName.get(key)?.raw,
      pods,
      ctx: { node: policyNodeContext(asArray(prop(input, 'nodes')).map(readPolicyNode), nodeName), podCgroups },
    });

    const all = [...[...byName.values()].map((c) => c.candidates), ...policies.candidates];
    const settled = settleFrontendClaims(all);
    const frontends = [...settled.frontends].sort(compareFrontends);
    const used = new Set(frontends.map((f) => f.service));
    const services: [string, DesiredService][] = [];
    for (const c of all) for (const entry of c.services) if (used.has(entry[0])) services.push(entry);
    services.sort(([a], [b]) => compareText(a, b));
    const refusals: ResolverRefusal[] = [...settled.refusals, ...policies.refusals];
    for (const c of all) refusals.push(...c.refusals);
    return { services: new Map(services), frontends, refusals: sortRefusals(refusals) };
  };
}

function keyOf(raw: unknown): string {
  const id = objectIdentity(raw);
  return namespacedKey(id.namespace, id.name);
}

function rememberCandidates(key: string, raw: unknown, slices: readonly SliceView[] | undefined, node: NodeContext): Remembered {
  const candidates = serviceCandidates(raw, slices, node);
  return { key, slices, node, candidates, text: serializeCandidates(candidates) };
}

function sameViews(a: readonly SliceView[] | undefined, b: readonly SliceView[] | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return a.length === b.length && a.every((v, i) => v === b[i]);
}
