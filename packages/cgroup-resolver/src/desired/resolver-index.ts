// The resolver's desired state kept up to date one Service at a time (the director's
// DesiredIndex pattern, packages/ipvs-controller/src/desired-index.ts): cache events mark the
// Service they concern dirty (an EndpointSlice its Service, this node's Node every Service);
// a snapshot rebuilds only dirty Services with the same pure per-Service step as the whole
// builder (serviceCandidates) and settles only the frontend keys they claim, with the whole
// builder's rule (settleFrontend). The state is what buildResolverState gives for the objects
// the index holds (a property test holds it to that), at a cost proportional to the change.
//
// Policies (LocalRedirectPolicy, BalancingPolicy) are sources like Services, rebuilt one policy
// at a time with the builder's policy step (policyCandidates): a policy event parses the changed
// object and settles conflicts again over every policy (there are few), rebuilding those whose
// resolution changed; a pod event dirties the policies that select it before or after (each
// policy keeps the set of pods it selects); a Service event the policies whose serviceMatcher
// names it; a Node event that changes this node's labels or any node's proxy address every
// policy; observeCgroups() every LocalRedirectPolicy.
import { asString, endpointSliceServiceKey, namespacedKey, prop } from '@balanced/k8s';
import type { PolicyKind, PolicyParse, Resolution } from '@balanced/policies';
import type { DesiredFrontend, DesiredService, DesiredState, ResolverRefusal } from '../model.js';
import { frontendKey } from '../plan/keys.js';
import { readSlice, type SliceView } from './endpoint-slices.js';
import { settleFrontend, type FrontendClaim } from './frontend-claims.js';
import { nodeAddresses } from './node-addresses.js';
import { sortRefusals } from './refusals.js';
import { sameNodeContext, serializeCandidates } from './candidates-text.js';
import { serviceCandidates, type NodeContext, type ServiceCandidates } from './service-candidates.js';
import { podSelected, policyCandidates, selectsPods, serializePolicyCandidates, type PodCgroups, type PolicyCandidates } from './policy-candidates.js';
import { policyNodeContext, policyNodeViewChanged, readPolicyNode, type PolicyNodeContext, type PolicyNodeView } from './policy-nodes.js';
import { readPod, type PodView } from './policy-pods.js';
import { conflictRefusal, invalidPolicyRefusal, readPolicy, resolvePolicies } from './policy-read.js';

/** The kinds the resolver watches, as the cluster cache names them. */
export type ResolverKind = 'services' | 'endpointslices' | 'nodes' | 'pods' | 'localredirectpolicies' | 'balancingpolicies';
const KINDS: readonly ResolverKind[] = ['services', 'endpointslices', 'nodes', 'pods', 'localredirectpolicies', 'balancingpolicies'];

const POLICY_KIND: Readonly<Partial<Record<ResolverKind, PolicyKind>>> = { localredirectpolicies: 'LocalRedirectPolicy', balancingpolicies: 'BalancingPolicy' };

/** The informer caches, read whole only after a (re)list of a kind (and on the first snapshot). */
export interface ResolverCluster {
  services(): readonly unknown[];
  endpointSlices(): readonly unknown[];
  nodes(): readonly unknown[];
  pods(): readonly unknown[];
  localRedirectPolicies(): readonly unknown[];
  balancingPolicies(): readonly unknown[];
}

/** One object added, updated or deleted (the cluster cache's ObjectChange). */
export interface ResolverChange {
  readonly type: 'add' | 'update' | 'delete';
  readonly object: unknown;
}

export interface ResolverIndexOptions {
  readonly cluster: ResolverCluster;
  /** This node's name; undefined = out of cluster (no node-local endpoints, no NodePorts). */
  readonly nodeName?: string | undefined;
  /** Pod-level cgroup ids by pod UID (LocalRedirectPolicy skip lists); call observeCgroups() when its answers may have changed. Default: none known. */
  readonly podCgroups?: PodCgroups | undefined;
}

/** What the agent plans from. */
export interface DesiredSnapshot {
  /**
   * The whole desired state. Live views owned by the index, valid until its next snapshot:
   * services and frontends in no particular order (planMaps orders them), refusals sorted.
   */
  readonly state: DesiredState;
  /**
   * Service keys whose desired service or frontends may differ since the previous snapshot,
   * each with the frontends it had then; 'all': anything may have changed (first snapshot).
   */
  readonly changed: ReadonlyMap<string, readonly DesiredFrontend[]> | 'all';
  /** The frontends that resolve to a service key now (empty when none). */
  frontendsOf(key: string): readonly DesiredFrontend[];
}

interface Source {
  readonly raw: unknown;
  /** The EndpointSlice objects it was read with (undefined: none names it). */
  readonly slices: readonly unknown[] | undefined;
  readonly node: NodeContext;
  readonly candidates: ServiceCandidates;
  /** serializeCandidates(candidates), computed when first compared. */
  text?: string;
}

/**
 * A slice as the cache holds it. Its view (readSlice) is read when its Service is rebuilt and
 * not kept: the cache holds the object already, and a view would hold every endpoint again.
 */
interface SliceEntry {
  readonly owner: string | undefined;
  readonly raw: unknown;
}

/** A claim on one frontend key by one Service (namespace/name) or policy (policyId). */
interface Claim extends FrontendClaim {
  readonly source: string;
}

/** What a source (Service or policy) contributes; a policy's carries its kind. */
type Candidates = ServiceCandidates & { readonly kind?: PolicyKind };

interface PolicyObject {
  readonly kind: PolicyKind;
  readonly raw: unknown;
}

/** A policy object as last read and settled. */
interface PolicyEntry {
  readonly raw: unknown;
  readonly kind: PolicyKind;
  readonly parse: PolicyParse;
  readonly resolution: Resolution | undefined;
  /** The pods it selects (podSelected), by namespace/name; undefined when it selects none by design (invalid, addressEndpoint). */
  readonly matched: Set<string> | undefined;
  /** namespace/name of the Service its serviceMatcher names. */
  readonly service: string | undefined;
}

interface PolicySource {
  readonly candidates: PolicyCandidates;
  readonly text: string;
}

/** A policy's source id: never a Service's namespace/name (those hold no NUL). */
function policyId(kind: PolicyKind, key: string): string {
  return `\u0000${kind}\u0000${key}`;
}

const NO_CGROUPS: PodCgroups = () => undefined;

const NONE: readonly never[] = Object.freeze([]);

/** namespace/name ('' for a missing part), as objectIdentity reads them (without the creation time). */
function keyOf(raw: unknown): string {
  const metadata = prop(raw, 'metadata');
  return namespacedKey(asString(prop(metadata, 'namespace')) ?? '', asString(prop(metadata, 'name')) ?? '');
}

export class ResolverIndex {
  private readonly nodeName: string | undefined;
  private readonly services = new Map<string, unknown>();
  private readonly slices = new Map<string, SliceEntry>();
  /** Service (namespace/name) → its slices; present as soon as one slice names it. */
  private readonly slicesByOwner = new Map<string, SliceEntry[]>();
  private readonly nodes = new Map<string, unknown>();
  private node: NodeContext;
  private readonly sources = new Map<string, Source>();
  /** Frontend key → every Service's claim on it. */
  private readonly claims = new Map<string, Claim[]>();
  /** Frontend key → the winning claim. */
  private readonly winners = new Map<string, Claim>();
  /** Frontend key → the refusals of its losing claims (only keys that have some). */
  private readonly conflicts = new Map<string, readonly ResolverRefusal[]>();
  /** Service (namespace/name) → its own refusals (only Services that have some). */
  private readonly sourceRefusals = new Map<string, readonly ResolverRefusal[]>();
  /** Service key → its winning frontends (each once, in the order they won). */
  private readonly frontendsByService = new Map<string, DesiredFrontend[]>();
  /** Service key → the Service (namespace/name) whose candidate it is. */
  private readonly serviceSource = new Map<string, string>();
  private readonly desiredServices = new Map<string, DesiredService>();
  /** Every winning frontend, in no order; `position` says where (removal swaps the last in). */
  private readonly frontendList: DesiredFrontend[] = [];
  private readonly position = new Map<string, number>();
  private refusals: readonly ResolverRefusal[] = NONE;
  private refusalsDirty = false;
  private readonly dirty = new Set<string>();
  private readonly relist = new Set<ResolverKind>(KINDS);
  private changed = new Map<string, readonly DesiredFrontend[]>();
  private everything = true;
  private readonly state: DesiredState;
  // ---- policies ----
  private readonly podCgroups: PodCgroups;
  /** Pod (namespace/name) → its view; pods that are not objects are left out (no policy selects them). */
  private readonly pods = new Map<string, PodView>();
  private readonly podViews = new WeakMap<object, PodView | undefined>();
  /** policyId → the cached object. */
  private readonly policyObjects = new Map<string, PolicyObject>();
  /** policyId → how it was last read and settled. */
  private readonly policies = new Map<string, PolicyEntry>();
  /** Service (namespace/name) → the policies whose serviceMatcher names it. */
  private readonly policiesByService = new Map<string, Set<string>>();
  /** policyId → its candidates, while it is accepted. */
  private readonly policySources = new Map<string, PolicySource>();
  /** policyId → its refusals as a policy (invalid, conflicted). */
  private readonly policyRefusals = new Map<string, readonly ResolverRefusal[]>();
  /** Node (namespace/name) → what the policies read of it. */
  private readonly policyNodes = new Map<string, PolicyNodeView>();
  private policyNode: PolicyNodeContext;
  private policyNodeDirty = false;
  private resolvePending = false;
  private readonly dirtyPolicies = new Set<string>();

  constructor(private readonly options: ResolverIndexOptions) {
    const name = options.nodeName;
    this.nodeName = typeof name === 'string' && name !== '' ? name : undefined;
    this.node = { nodeName: this.nodeName, addresses: [] };
    this.podCgroups = options.podCgroups ?? NO_CGROUPS;
    this.policyNode = policyNodeContext([], this.nodeName);
    const currentRefusals = () => this.currentRefusals();
    this.state = {
      services: this.desiredServices,
      frontends: this.frontendList,
      get refusals() {
        return currentRefusals();
      },
    };
  }

  /**
   * Feed it the cluster cache's onChange: an object change, or (no change) a (re)list of a kind.
   * False when the desired state cannot have changed (a pod no policy selects, before or after):
   * no pass is needed.
   */
  observe(kind: string, change?: ResolverChange): boolean {
    if (!(KINDS as readonly string[]).includes(kind)) return false;
    if (change === undefined) {
      this.relist.add(kind as ResolverKind);
      return true;
    }
    const gone = change.type === 'delete';
    switch (kind as ResolverKind) {
      case 'services': {
        const key = keyOf(change.object);
        if (gone) this.services.delete(key);
        else this.services.set(key, change.object);
        this.dirty.add(key);
        for (const id of this.policiesByService.get(key) ?? NONE) this.dirtyPolicies.add(id);
        break;
      }
      case 'endpointslices':
        this.putSlice(change.object, gone);
        break;
      case 'nodes': {
        const key = keyOf(change.object);
        if (gone) this.nodes.delete(key);
        else this.nodes.set(key, change.object);
        this.readNode();
        this.putPolicyNode(key, gone ? undefined : change.object);
        break;
      }
      case 'pods':
        return this.putPod(change.object, gone);
      case 'localredirectpolicies':
      case 'balancingpolicies': {
        const policyKind = POLICY_KIND[kind as ResolverKind] as PolicyKind;
        const id = policyId(policyKind, keyOf(change.object));
        if (gone) this.policyObjects.delete(id);
        else this.policyObjects.set(id, { kind: policyKind, raw: change.object });
        this.resolvePending = true;
        break;
      }
    }
    return true;
  }

  /** The pod-level cgroups podCgroups answers may have changed: every LocalRedirectPolicy is read again. */
  observeCgroups(): void {
    for (const [id, entry] of this.policies) if (entry.kind === 'LocalRedirectPolicy') this.dirtyPolicies.add(id);
  }

  /** Rebuild what is dirty; `changed` covers everything since the previous snapshot. */
  snapshot(): DesiredSnapshot {
    if (this.relist.size > 0) this.reread();
    if (this.resolvePending) this.resolvePolicies();
    if (this.policyNodeDirty) this.readPolicyNodes();
    for (const source of this.dirty) this.rebuild(source);
    this.dirty.clear();
    for (const id of this.dirtyPolicies) this.rebuildPolicy(id);
    this.dirtyPolicies.clear();
    const snapshot: DesiredSnapshot = {
      state: this.state,
      changed: this.everything ? 'all' : this.changed,
      frontendsOf: (key) => {
        const mine = this.frontendsByService.get(key);
        return mine === undefined ? NONE : [...mine];
      },
    };
    this.changed = new Map();
    this.everything = false;
    return snapshot;
  }

  // ---- observing ----------------------------------------------------------------------

  private putSlice(raw: unknown, gone: boolean, id = keyOf(raw)): void {
    const before = this.slices.get(id);
    if (before?.owner !== undefined) {
      const mine = this.slicesByOwner.get(before.owner);
      const at = mine === undefined ? -1 : mine.indexOf(before);
      if (at >= 0) (mine as SliceEntry[]).splice(at, 1);
      if (mine?.length === 0) this.slicesByOwner.delete(before.owner);
      this.dirty.add(before.owner);
    }
    if (gone) {
      this.slices.delete(id);
      return;
    }
    const entry: SliceEntry = before !== undefined && before.raw === raw ? before : { owner: endpointSliceServiceKey(raw), raw };
    const owner = entry.owner;
    this.slices.set(id, entry);
    if (owner === undefined) return;
    const mine = this.slicesByOwner.get(owner);
    if (mine === undefined) this.slicesByOwner.set(owner, [entry]);
    else mine.push(entry);
    this.dirty.add(owner);
  }

  /** This node's addresses changed: every Service is read again (its NodePorts follow them). */
  private readNode(): void {
    const next: NodeContext = { nodeName: this.nodeName, addresses: nodeAddresses([...this.nodes.values()], this.nodeName) };
    if (sameNodeContext(next, this.node)) return;
    this.node = next;
    for (const key of this.services.keys()) this.dirty.add(key);
    for (const key of this.sources.keys()) this.dirty.add(key);
  }

  /** After a (re)list: the kind is read whole; what did not change is rebuilt to the same result. */
  private reread(): void {
    const c = this.options.cluster;
    if (this.relist.has('services')) {
      for (const key of this.services.keys()) this.dirty.add(key);
      this.services.clear();
      for (const s of c.services()) {
        const key = keyOf(s);
        this.services.set(key, s);
        this.dirty.add(key);
      }
      for (const ids of this.policiesByService.values()) for (const id of ids) this.dirtyPolicies.add(id);
    }
    if (this.relist.has('endpointslices')) {
      // A slice the index holds already (the informer's add came first) is left as it is.
      const listed = new Set<string>();
      for (const s of c.endpointSlices()) {
        const id = keyOf(s);
        listed.add(id);
        if (this.slices.get(id)?.raw !== s) this.putSlice(s, false, id);
      }
      for (const [id, entry] of this.slices) if (!listed.has(id)) this.putSlice(entry.raw, true, id);
    }
    if (this.relist.has('nodes')) {
      this.nodes.clear();
      this.policyNodes.clear();
      for (const n of c.nodes()) {
        const key = keyOf(n);
        this.nodes.set(key, n);
        this.policyNodes.set(key, readPolicyNode(n));
      }
      this.readNode();
      this.policyNodeDirty = true;
    }
    if (this.relist.has('pods')) {
      this.pods.clear();
      for (const p of c.pods()) {
        const view = this.podView(p);
        if (view !== undefined) this.pods.set(keyOf(p), view);
      }
      for (const [id, entry] of this.policies) {
        if (entry.matched === undefined) continue;
        this.policies.set(id, { ...entry, matched: this.selected(entry.parse) });
        this.dirtyPolicies.add(id);
      }
    }
    for (const [kind, list] of [
      ['localredirectpolicies', () => c.localRedirectPolicies()],
      ['balancingpolicies', () => c.balancingPolicies()],
    ] as const) {
      if (!this.relist.has(kind)) continue;
      const policyKind = POLICY_KIND[kind] as PolicyKind;
      for (const [id, o] of this.policyObjects) if (o.kind === policyKind) this.policyObjects.delete(id);
      for (const raw of list()) this.policyObjects.set(policyId(policyKind, keyOf(raw)), { kind: policyKind, raw });
      this.resolvePending = true;
    }
    this.relist.clear();
  }

  // ---- policies -----------------------------------------------------------------------

  private podView(raw: unknown): PodView | undefined {
    if (raw === null || typeof raw !== 'object') return readPod(raw);
    if (this.podViews.has(raw)) return this.podViews.get(raw);
    const view = readPod(raw);
    this.podViews.set(raw, view);
    return view;
  }

  /** True when some policy selects the pod (before or after). */
  private putPod(raw: unknown, gone: boolean): boolean {
    const key = keyOf(raw);
    const view = gone ? undefined : this.podView(raw);
    if (view === undefined) this.pods.delete(key);
    else this.pods.set(key, view);
    let concerned = false;
    for (const [id, entry] of this.policies) {
      if (entry.matched === undefined || !entry.parse.ok) continue;
      const was = entry.matched.has(key);
      const now = view !== undefined && podSelected(entry.parse.policy, view, this.nodeName);
      if (now) entry.matched.add(key);
      else entry.matched.delete(key);
      if (was || now) {
        this.dirtyPolicies.add(id);
        concerned = true;
      }
    }
    // Policies not settled yet select from every pod when they are.
    return concerned || this.resolvePending;
  }

  /** The pods a parsed policy selects now (undefined: it selects none by design). */
  private selected(parse: PolicyParse): Set<string> | undefined {
    if (!parse.ok || !selectsPods(parse.policy)) return undefined;
    const out = new Set<string>();
    for (const [key, view] of this.pods) if (podSelected(parse.policy, view, this.nodeName)) out.add(key);
    return out;
  }

  private putPolicyNode(key: string, raw: unknown): void {
    const before = this.policyNodes.get(key);
    const view = raw === undefined ? undefined : readPolicyNode(raw);
    if (view === undefined) this.policyNodes.delete(key);
    else this.policyNodes.set(key, view);
    if (policyNodeViewChanged(before, view, this.nodeName)) this.policyNodeDirty = true;
  }

  /** This node's labels or some node's proxy address changed: every policy is read again. */
  private readPolicyNodes(): void {
    this.policyNodeDirty = false;
    const next = policyNodeContext(this.policyNodes.values(), this.nodeName);
    if (next.text === this.policyNode.text) return;
    this.policyNode = next;
    for (const id of this.policies.keys()) this.dirtyPolicies.add(id);
  }

  /** Parse what changed, settle every policy again, and mark those whose resolution changed. */
  private resolvePolicies(): void {
    this.resolvePending = false;
    this.refusalsDirty = true;
    const read = new Map<string, { object: PolicyObject; parse: PolicyParse }>();
    for (const [id, object] of this.policyObjects) {
      const had = this.policies.get(id);
      const parse = had !== undefined && had.raw === object.raw && had.kind === object.kind ? had.parse : readPolicy(object.raw, object.kind);
      read.set(id, { object, parse });
    }
    const resolutions = resolvePolicies([...read.values()].flatMap((r) => (r.parse.ok ? [r.parse.policy] : [])));
    for (const id of this.policies.keys()) {
      if (read.has(id)) continue;
      this.dropPolicy(id);
    }
    for (const [id, { object, parse }] of read) {
      const had = this.policies.get(id);
      const resolution = parse.ok ? resolutions.get(parse.policy) : undefined;
      const refusals = !parse.ok ? [invalidPolicyRefusal(parse, object.kind)] : resolution?.state === 'Conflicted' ? [conflictRefusal(resolution)] : NONE;
      if (refusals.length > 0) this.policyRefusals.set(id, refusals);
      else this.policyRefusals.delete(id);
      if (had !== undefined && had.parse === parse && sameResolution(had.resolution, resolution)) {
        continue;
      }
      const service = parse.ok && parse.policy.frontend.type === 'service' ? namespacedKey(parse.policy.frontend.namespace, parse.policy.frontend.serviceName) : undefined;
      if (had?.service !== service) {
        if (had?.service !== undefined) this.unlinkService(had.service, id);
        if (service !== undefined) {
          const ids = this.policiesByService.get(service) ?? new Set<string>();
          ids.add(id);
          this.policiesByService.set(service, ids);
        }
      }
      const matched = had !== undefined && had.parse === parse ? had.matched : this.selected(parse);
      this.policies.set(id, { raw: object.raw, kind: object.kind, parse, resolution, matched, service });
      this.dirtyPolicies.add(id);
    }
  }

  private dropPolicy(id: string): void {
    const had = this.policies.get(id);
    if (had?.service !== undefined) this.unlinkService(had.service, id);
    this.policies.delete(id);
    this.policyRefusals.delete(id);
    this.dirtyPolicies.add(id);
  }

  private unlinkService(service: string, id: string): void {
    const ids = this.policiesByService.get(service);
    ids?.delete(id);
    if (ids?.size === 0) this.policiesByService.delete(service);
  }

  private rebuildPolicy(id: string): void {
    const entry = this.policies.get(id);
    const before = this.policySources.get(id);
    let next: PolicySource | undefined;
    if (entry !== undefined && entry.parse.ok && entry.resolution?.state === 'Accepted') {
      const service = entry.service === undefined ? undefined : this.services.get(entry.service);
      const pods: PodView[] = [];
      for (const key of entry.matched ?? NONE) {
        const view = this.pods.get(key);
        if (view !== undefined) pods.push(view);
      }
      const candidates = policyCandidates(entry.parse.policy, service, pods, { node: this.policyNode, podCgroups: this.podCgroups });
      const text = serializePolicyCandidates(candidates);
      next = before !== undefined && before.text === text ? before : { candidates, text };
    }
    if (next === undefined) this.policySources.delete(id);
    else this.policySources.set(id, next);
    if (before?.candidates === next?.candidates) return;
    this.install(id, before?.candidates, next?.candidates);
  }

  // ---- rebuilding ---------------------------------------------------------------------

  private rebuild(source: string): void {
    const before = this.sources.get(source);
    const raw = this.services.get(source);
    let next: Source | undefined;
    // Present even when the object itself is not an object: the builder refuses it, so must we.
    if (this.services.has(source)) {
      const owned = this.slicesByOwner.get(source);
      const slices = owned?.map((e) => e.raw);
      if (before !== undefined && before.raw === raw && before.node === this.node && sameObjects(before.slices, slices)) return;
      let views: SliceView[] | undefined;
      if (slices !== undefined) {
        views = [];
        for (const slice of slices) {
          const view = readSlice(slice);
          if (view !== undefined) views.push(view);
        }
      }
      const candidates = serviceCandidates(raw, views, this.node);
      next = { raw, slices, node: this.node, candidates };
      if (before !== undefined) {
        // Read again to the same result (a relist hands out new objects): nothing changed.
        before.text ??= serializeCandidates(before.candidates);
        const text = serializeCandidates(candidates);
        next = before.text === text ? { raw, slices, node: this.node, candidates: before.candidates, text } : { ...next, text };
      }
    }
    if (next === undefined) this.sources.delete(source);
    else this.sources.set(source, next);
    if (before?.candidates === next?.candidates) return;
    this.install(source, before?.candidates, next?.candidates);
  }

  /** A source's candidates changed from `old` to `now` (undefined: none): claims, refusals and services follow. */
  private install(source: string, old: Candidates | undefined, now: Candidates | undefined): void {
    if ((old?.refusals.length ?? 0) > 0 || (now?.refusals.length ?? 0) > 0) this.refusalsDirty = true;
    if (now !== undefined && now.refusals.length > 0) this.sourceRefusals.set(source, now.refusals);
    else this.sourceRefusals.delete(source);

    // Every backend set of the Service, before and after, may have changed (touch and publish
    // are idempotent: a key in both is simply seen twice).
    const oldSets = old?.services;
    const nowSets = now?.services;
    for (const key of oldSets?.keys() ?? NONE) this.touch(key);
    for (const key of nowSets?.keys() ?? NONE) {
      this.touch(key);
      this.serviceSource.set(key, source);
    }

    // (a first install, the usual case, claims each key once: no set of them is needed)
    const touched = old === undefined || old.frontends.length === 0 ? undefined : new Set<string>();
    for (const f of old?.frontends ?? NONE) {
      const fk = frontendKey(f);
      touched?.add(fk);
      const list = this.claims.get(fk);
      if (list === undefined) continue;
      const rest = list.filter((c) => c.source !== source);
      if (rest.length === 0) this.claims.delete(fk);
      else this.claims.set(fk, rest);
    }
    for (const frontend of now?.frontends ?? NONE) {
      const fk = frontendKey(frontend);
      const owner = (now as Candidates).owner;
      const kind = (now as Candidates).kind;
      const mine: Claim = kind === undefined ? { source, owner, frontend } : { source, owner, kind, frontend };
      const list = this.claims.get(fk);
      if (list === undefined) this.claims.set(fk, [mine]);
      else list.push(mine);
      if (touched === undefined) this.settle(fk);
      else touched.add(fk);
    }
    for (const fk of touched ?? NONE) this.settle(fk);
    for (const key of oldSets?.keys() ?? NONE) this.publish(key);
    for (const key of nowSets?.keys() ?? NONE) this.publish(key);
  }

  /** Who holds one frontend key now (the whole builder's rule). */
  private settle(fk: string): void {
    const list = this.claims.get(fk) ?? NONE;
    const { winner, refusals } = list.length <= 1 ? { winner: list[0], refusals: NONE } : settleFrontend(list);
    const had = this.conflicts.get(fk);
    if (refusals.length > 0) this.conflicts.set(fk, refusals);
    else this.conflicts.delete(fk);
    if ((had?.length ?? 0) > 0 || refusals.length > 0) this.refusalsDirty = true;

    const was = this.winners.get(fk);
    const now = winner as Claim | undefined;
    if (was === now) return;
    if (was !== undefined) {
      this.touch(was.frontend.service);
      // (each winning frontend is in its service key's list once, as the very object)
      const mine = this.frontendsByService.get(was.frontend.service);
      const at = mine === undefined ? -1 : mine.indexOf(was.frontend);
      if (at >= 0) (mine as DesiredFrontend[]).splice(at, 1);
      if (mine?.length === 0) this.frontendsByService.delete(was.frontend.service);
      this.removeFrontend(fk);
      this.winners.delete(fk);
      this.publish(was.frontend.service);
    }
    if (now !== undefined) {
      this.touch(now.frontend.service);
      this.serviceSource.set(now.frontend.service, now.source);
      const mine = this.frontendsByService.get(now.frontend.service);
      if (mine === undefined) this.frontendsByService.set(now.frontend.service, [now.frontend]);
      else mine.push(now.frontend);
      this.addFrontend(fk, now.frontend);
      this.winners.set(fk, now);
      this.publish(now.frontend.service);
    }
  }

  /** A service key is about to change: remember the frontends it had at the previous snapshot. */
  private touch(key: string): void {
    if (this.everything || this.changed.has(key)) return;
    const mine = this.frontendsByService.get(key);
    this.changed.set(key, mine === undefined ? NONE : [...mine]);
  }

  /** A service key is desired while some frontend resolves to it (as in the whole builder). */
  private publish(key: string): void {
    const source = this.serviceSource.get(key);
    const service = source === undefined ? undefined : (this.sources.get(source)?.candidates ?? this.policySources.get(source)?.candidates)?.services.get(key);
    if (service !== undefined && (this.frontendsByService.get(key)?.length ?? 0) > 0) {
      this.desiredServices.set(key, service);
      return;
    }
    this.desiredServices.delete(key);
    if (service === undefined) this.serviceSource.delete(key);
  }

  private addFrontend(fk: string, f: DesiredFrontend): void {
    const at = this.position.get(fk);
    if (at !== undefined) {
      this.frontendList[at] = f;
      return;
    }
    this.position.set(fk, this.frontendList.length);
    this.frontendList.push(f);
  }

  private removeFrontend(fk: string): void {
    const at = this.position.get(fk);
    if (at === undefined) return;
    const last = this.frontendList.pop() as DesiredFrontend;
    this.position.delete(fk);
    if (at < this.frontendList.length) {
      this.frontendList[at] = last;
      this.position.set(frontendKey(last), at);
    }
  }

  private currentRefusals(): readonly ResolverRefusal[] {
    if (!this.refusalsDirty) return this.refusals;
    const all: ResolverRefusal[] = [];
    for (const r of this.sourceRefusals.values()) all.push(...r);
    for (const r of this.conflicts.values()) all.push(...r);
    for (const r of this.policyRefusals.values()) all.push(...r);
    this.refusals = sortRefusals(all);
    this.refusalsDirty = false;
    return this.refusals;
  }
}

/** The same outcome of conflict resolution (for the same Policy object). */
function sameResolution(a: Resolution | undefined, b: Resolution | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  if (a.state !== b.state) return false;
  if (a.state === 'Accepted' || b.state === 'Accepted') return true;
  return a.winner.kind === b.winner.kind && a.winner.name === b.winner.name && a.frontend === b.frontend;
}

function sameObjects(a: readonly unknown[] | undefined, b: readonly unknown[] | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return a.length === b.length && a.every((v, i) => v === b[i]);
}
