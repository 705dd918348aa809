// One accepted policy's frontends and backend sets on this node (pure): the policy step of the
// whole builder and of the incremental index alike.
//
// - Where a policy applies: in the cluster, on nodes whose labels match config.nodeLabelSelector
//   (every node when it is absent); outside the cluster (no node name) only with
//   config.enableOutCluster, whatever the node selector says (a host outside is no node). A
//   LocalRedirectPolicy never applies outside the cluster: such a host runs no pods, so its
//   frontend would always fall through to the Service; enableOutCluster changes nothing for it.
// - LocalRedirectPolicy (frontend kind `redirect`): ready, not terminating pods on this node
//   matching the endpointSelector (every namespace), whose pod-level cgroups are known. The set
//   does not refuse when empty: the frontend then resolves as the Service would (the fallback).
//   Its skipCgroups are the chosen pods' pod-level cgroups, so a chosen pod connecting to the
//   frontend goes to the Service, never to itself. A pod whose cgroup is not known yet is not
//   chosen (it could be redirected to itself); pods beyond MAX_SKIP_CGROUPS cgroups are not
//   chosen either (refusal TooManyLocalBackends).
// - BalancingPolicy (frontend kind `balancing`): see policy-backends.ts; an empty set refuses
//   (ECONNREFUSED at once, as a Service without endpoints): the policy took the frontend over.
import { matchesSelector, type Policy, type PolicyConfig, type PolicyKind } from '@balanced/policies';
import type { DesiredFrontend, DesiredService, FrontendKind, ResolverRefusal } from '../model.js';
import { MAX_SKIP_CGROUPS } from '../maps/layout.js';
import { compareFrontends, frontendKey } from '../plan/keys.js';
import type { IpFamily } from './address.js';
import { compareText, type ObjectIdentity } from './object-ref.js';
import { addressBackends, nodeBackends, podEndpointBackends, type BackendQuery, type PolicyBackends } from './policy-backends.js';
import { policyFrontends } from './policy-frontends.js';
import { NODE_PROXY_IP_ANNOTATION, type PolicyNodeContext } from './policy-nodes.js';
import type { PodView } from './policy-pods.js';
import type { ServiceCandidates } from './service-candidates.js';

/**
 * The pod-level cgroup ids (cgroup v2 directory inode numbers) of a pod on this node, by pod
 * UID; undefined (or empty) while unknown.
 */
export type PodCgroups = (podUid: string) => readonly bigint[] | undefined;

export interface PolicyContext {
  readonly node: PolicyNodeContext;
  readonly podCgroups: PodCgroups;
}

/** A policy's part of the desired state: what a Service's candidates are, owned by a policy. */
export interface PolicyCandidates extends ServiceCandidates {
  readonly kind: PolicyKind;
}

const FRONTEND_KIND: Readonly<Record<PolicyKind, FrontendKind>> = { LocalRedirectPolicy: 'redirect', BalancingPolicy: 'balancing' };

/**
 * `policy <kind>/<name>:<frontend port>/<protocol> <family>`, e.g.
 * `policy LocalRedirectPolicy/node-local-dns:53/UDP IPv4`: never a Service's key (those start
 * with a namespace, which holds no space).
 */
export function policyServiceKey(kind: PolicyKind, name: string, port: number, protocol: string, family: IpFamily): string {
  return `policy ${kind}/${name}:${port}/${protocol} ${family}`;
}

/** The policy sends to this pod if it is usable: its selector matches (and, for a LocalRedirectPolicy, the pod runs on this node). */
export function podSelected(policy: Policy, pod: PodView, nodeName: string | undefined): boolean {
  if (policy.kind === 'LocalRedirectPolicy') return nodeName !== undefined && pod.nodeName === nodeName && matchesSelector(policy.backend.endpointSelector, pod.labels);
  return policy.backend.type === 'serviceEndpoint' && matchesSelector(policy.backend.endpointSelector, pod.labels);
}

/** Whether a policy has pod backends at all (the index keeps the pods it selects). */
export function selectsPods(policy: Policy): boolean {
  return policy.kind === 'LocalRedirectPolicy' || policy.backend.type === 'serviceEndpoint';
}

/** config.nodeLabelSelector and config.enableOutCluster on this node (see the top of the file). */
export function policyAppliesHere(config: PolicyConfig, node: PolicyNodeContext): boolean {
  if (node.nodeName === undefined) return config.enableOutCluster;
  const selector = config.nodeLabelSelector;
  if (selector === undefined) return true;
  // The Node not cached (yet): no labels.
  return node.labelSets.length === 0 ? matchesSelector(selector, {}) : node.labelSets.some((labels) => matchesSelector(selector, labels));
}

/**
 * An accepted policy's candidates. `service`: the cached Service its serviceMatcher names
 * (undefined when none); `pods`: the pods it selects (podSelected), in any order.
 */
export function policyCandidates(policy: Policy, service: unknown, pods: readonly PodView[], ctx: PolicyContext): PolicyCandidates {
  const owner: ObjectIdentity = { namespace: '', name: policy.meta.name, created: policy.meta.createdAt ?? Number.POSITIVE_INFINITY };
  const none: PolicyCandidates = { kind: policy.kind, owner, services: new Map(), frontends: [], refusals: [] };
  const nodeName = ctx.node.nodeName;
  if (!policyAppliesHere(policy.config, ctx.node)) return none;
  if (policy.kind === 'LocalRedirectPolicy' && nodeName === undefined) return none;

  const object = { kind: policy.kind, name: policy.meta.name };
  const { plans, refusals: frontendRefusals } = policyFrontends(policy, service);
  const refusals: ResolverRefusal[] = [...frontendRefusals];
  const usable = pods.filter((p) => p.usable).sort(comparePods);
  const redirect = policy.kind === 'LocalRedirectPolicy' ? chooseLocal(usable, ctx, object, refusals) : undefined;
  const balancing = policy.kind === 'BalancingPolicy' ? policy.backend : undefined;

  const services = new Map<string, DesiredService>();
  const frontends = new Map<string, DesiredFrontend>();
  const unreachablePorts = new Set<string>();
  for (const plan of plans) {
    const key = policyServiceKey(policy.kind, policy.meta.name, plan.port, plan.protocol, plan.family);
    const query: BackendQuery = { family: plan.family, port: plan.backendPort, protocol: plan.protocol, nodeName };
    let found: PolicyBackends;
    if (redirect !== undefined) found = podEndpointBackends(redirect.pods, query);
    else if (balancing?.type === 'addressEndpoint') found = addressBackends(balancing, query);
    else if (balancing !== undefined && balancing.redirectMode !== 'podEndpoint') found = nodeBackends(balancing.redirectMode, usable, query, ctx.node);
    else found = podEndpointBackends(usable, query);

    if (found.dropped > 0) refusals.push({ object, reason: 'TooManyEndpoints', message: `${key} has more backends than one table holds; ${found.dropped} were left out` });
    if (found.unreachable > 0) unreachablePorts.add(`${plan.backendPort}/${plan.protocol}`);
    if (balancing?.type === 'addressEndpoint' && found.backends.length === 0 && plan.addresses.length > 0) {
      refusals.push({ object, reason: 'AddressFamilyNotServed', message: `no backend address is ${plan.family}: connections to ${plan.addresses.join(', ')} port ${plan.port}/${plan.protocol} are refused` });
    }
    services.set(key, {
      key,
      backends: found.backends,
      options: redirect !== undefined ? { refuseWhenEmpty: false, localOnly: true } : { refuseWhenEmpty: true, localOnly: false },
      ...(redirect !== undefined && redirect.skip.length > 0 ? { skipCgroups: redirect.skip } : {}),
    });
    for (const address of plan.addresses) {
      const f: DesiredFrontend = { address, port: plan.port, protocol: plan.protocol, kind: FRONTEND_KIND[policy.kind], service: key };
      const id = frontendKey(f);
      if (!frontends.has(id)) frontends.set(id, f);
    }
  }
  if (balancing?.type === 'serviceEndpoint') {
    for (const port of [...unreachablePorts].sort(compareText)) {
      refusals.push(
        balancing.redirectMode === 'hostPort'
          ? { object, reason: 'NoHostPort', message: `some selected ready pods publish no hostPort for container port ${port}; they are left out` }
          : { object, reason: 'NoNodeProxyAddress', message: `the nodes of some selected ready pods have no ${NODE_PROXY_IP_ANNOTATION} annotation; those pods are left out` },
      );
    }
  }
  const list = [...frontends.values()].sort(compareFrontends);
  const used = new Set(list.map((f) => f.service));
  const kept = new Map([...services].filter(([key]) => used.has(key)).sort(([a], [b]) => compareText(a, b)));
  return { kind: policy.kind, owner, services: kept, frontends: list, refusals };
}

/**
 * A LocalRedirectPolicy's pods: usable ones (sorted) whose pod-level cgroups are known, while
 * their cgroups fit one skip list.
 */
function chooseLocal(usable: readonly PodView[], ctx: PolicyContext, object: ResolverRefusal['object'], refusals: ResolverRefusal[]): { pods: PodView[]; skip: bigint[] } {
  const pods: PodView[] = [];
  let skip = new Set<bigint>();
  let over = 0;
  for (const pod of usable) {
    const ids = pod.uid === '' ? undefined : ctx.podCgroups(pod.uid);
    if (ids === undefined || ids.length === 0) continue;
    const next = new Set([...skip, ...ids]);
    if (next.size > MAX_SKIP_CGROUPS) {
      over++;
      continue;
    }
    skip = next;
    pods.push(pod);
  }
  if (over > 0) {
    refusals.push({
      object,
      reason: 'TooManyLocalBackends',
      message: `${over} ready pod(s) on this node are left out: a LocalRedirectPolicy sends to at most the pods whose cgroups fit its skip list (${MAX_SKIP_CGROUPS}), so that no backend is redirected to itself`,
    });
  }
  return { pods, skip: [...skip].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)) };
}

/** A total order on pod views (namespace/name, uid, then everything else), so input order never matters. */
function comparePods(a: PodView, b: PodView): number {
  return compareText(a.key, b.key) || compareText(a.uid, b.uid) || compareText(podText(a), podText(b));
}

function podText(p: PodView): string {
  return JSON.stringify([p.labels, p.nodeName ?? null, p.usable, p.ips, p.hostIps, p.ports]);
}

/** Canonical text of policy candidates (skip lists as decimal text: JSON has no bigint). */
export function serializePolicyCandidates(c: PolicyCandidates): string {
  return JSON.stringify([c.kind, c.owner.created, [...c.services].map(([k, s]) => [k, s.backends, s.options, (s.skipCgroups ?? []).map(String)]), c.frontends, c.refusals]);
}
