// The resolver's desired state kept up to date one Service at a time (the director's
// DesiredIndex pattern, packages/ipvs-controller/src/desired-index.ts): cache events mark the
// Service they concern dirty (an EndpointSlice its Service, this node's Node every Service);
// a snapshot rebuilds only dirty Services with the same pure per-Service step as the whole
// builder (serviceCandidates) and settles only the frontend keys they claim, with the whole
// builder's rule (settleFrontend). The state is what buildResolverState gives for the objects
// the index holds (a property test holds it to that), at a cost proportional to the change.
import { endpointSliceServiceKey, namespacedKey } from '@balanced/k8s';
import type { DesiredFrontend, DesiredService, DesiredState, ResolverRefusal } from '../model.js';
import { frontendKey } from '../plan/keys.js';
import { readSlice, type SliceView } from './endpoint-slices.js';
import { settleFrontend, type FrontendClaim } from './frontend-claims.js';
import { nodeAddresses } from './node-addresses.js';
import { objectIdentity } from './object-ref.js';
import { sortRefusals } from './refusals.js';
import { sameNodeContext, serializeCandidates } from './candidates-text.js';
import { serviceCandidates, type NodeContext, type ServiceCandidates } from './service-candidates.js';

/** The kinds the resolver watches, as the cluster cache names them. */
export type ResolverKind = 'services' | 'endpointslices' | 'nodes';
const KINDS: readonly ResolverKind[] = ['services', 'endpointslices', 'nodes'];

/** The informer caches, read whole only after a (re)list of a kind (and on the first snapshot). */
export interface ResolverCluster {
  services(): readonly unknown[];
  endpointSlices(): readonly unknown[];
  nodes(): readonly unknown[];
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
  readonly views: readonly SliceView[] | undefined;
  readonly node: NodeContext;
  readonly candidates: ServiceCandidates;
  /** serializeCandidates(candidates), computed when first compared. */
  text?: string;
}

interface SliceEntry {
  readonly owner: string | undefined;
  readonly raw: unknown;
  readonly view: SliceView | undefined;
}

/** A claim on one frontend key by one Service (namespace/name). */
interface Claim extends FrontendClaim {
  readonly source: string;
}

const NONE: readonly never[] = Object.freeze([]);

function keyOf(raw: unknown): string {
  const id = objectIdentity(raw);
  return namespacedKey(id.namespace, id.name);
}

export class ResolverIndex {
  private readonly nodeName: string | undefined;
  private readonly services = new Map<string, unknown>();
  private readonly slices = new Map<string, SliceEntry>();
  /** Service (namespace/name) → its slices by slice key; present as soon as one slice names it. */
  private readonly slicesByOwner = new Map<string, Map<string, SliceEntry>>();
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
  /** Service key → its winning frontends by frontend key. */
  private readonly frontendsByService = new Map<string, Map<string, DesiredFrontend>>();
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
  private readonly sliceViews = new WeakMap<object, SliceView | undefined>();
  private readonly state: DesiredState;

  constructor(private readonly options: ResolverIndexOptions) {
    const name = options.nodeName;
    this.nodeName = typeof name === 'string' && name !== '' ? name : undefined;
    this.node = { nodeName: this.nodeName, addresses: [] };
    const currentRefusals = () => this.currentRefusals();
    this.state = {
      services: this.desiredServices,
      frontends: this.frontendList,
      get refusals() {
        return currentRefusals();
      },
    };
  }

  /** Feed it the cluster cache's onChange: an object change, or (no change) a (re)list of a kind. */
  observe(kind: string, change?: ResolverChange): void {
    if (!(KINDS as readonly string[]).includes(kind)) return;
    if (change === undefined) {
      this.relist.add(kind as ResolverKind);
      return;
    }
    const gone = change.type === 'delete';
    switch (kind as ResolverKind) {
      case 'services': {
        const key = keyOf(change.object);
        if (gone) this.services.delete(key);
        else this.services.set(key, change.object);
        this.dirty.add(key);
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
        break;
      }
    }
  }

  /** Rebuild what is dirty; `changed` covers everything since the previous snapshot. */
  snapshot(): DesiredSnapshot {
    if (this.relist.size > 0) this.reread();
    for (const source of this.dirty) this.rebuild(source);
    this.dirty.clear();
    const snapshot: DesiredSnapshot = {
      state: this.state,
      changed: this.everything ? 'all' : this.changed,
      frontendsOf: (key) => {
        const mine = this.frontendsByService.get(key);
        return mine === undefined ? NONE : [...mine.values()];
      },
    };
    this.changed = new Map();
    this.everything = false;
    return snapshot;
  }

  // ---- observing ----------------------------------------------------------------------

  private putSlice(raw: unknown, gone: boolean): void {
    const id = keyOf(raw);
    const before = this.slices.get(id);
    if (before?.owner !== undefined) {
      const mine = this.slicesByOwner.get(before.owner);
      mine?.delete(id);
      if (mine?.size === 0) this.slicesByOwner.delete(before.owner);
      this.dirty.add(before.owner);
    }
    if (gone) {
      this.slices.delete(id);
      return;
    }
    const owner = endpointSliceServiceKey(raw);
    const entry: SliceEntry = { owner, raw, view: this.view(raw) };
    this.slices.set(id, entry);
    if (owner === undefined) return;
    let mine = this.slicesByOwner.get(owner);
    if (mine === undefined) {
      mine = new Map();
      this.slicesByOwner.set(owner, mine);
    }
    mine.set(id, entry);
    this.dirty.add(owner);
  }

  private view(raw: unknown): SliceView | undefined {
    if (raw === null || typeof raw !== 'object') return readSlice(raw);
    if (this.sliceViews.has(raw)) return this.sliceViews.get(raw);
    const view = readSlice(raw);
    this.sliceViews.set(raw, view);
    return view;
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
    }
    if (this.relist.has('endpointslices')) {
      for (const owner of this.slicesByOwner.keys()) this.dirty.add(owner);
      this.slices.clear();
      this.slicesByOwner.clear();
      for (const s of c.endpointSlices()) this.putSlice(s, false);
    }
    if (this.relist.has('nodes')) {
      this.nodes.clear();
      for (const n of c.nodes()) this.nodes.set(keyOf(n), n);
      this.readNode();
    }
    this.relist.clear();
  }

  // ---- rebuilding ---------------------------------------------------------------------

  private rebuild(source: string): void {
    const before = this.sources.get(source);
    const raw = this.services.get(source);
    let next: Source | undefined;
    // Present even when the object itself is not an object: the builder refuses it, so must we.
    if (this.services.has(source)) {
      const owned = this.slicesByOwner.get(source);
      const views = owned === undefined ? undefined : [...owned.values()].flatMap((e) => (e.view === undefined ? [] : [e.view]));
      if (before !== undefined && before.raw === raw && before.node === this.node && sameViews(before.views, views)) return;
      const candidates = serviceCandidates(raw, views, this.node);
      next = { raw, views, node: this.node, candidates };
      if (before !== undefined) {
        // Read again to the same result (a relist hands out new objects): nothing changed.
        before.text ??= serializeCandidates(before.candidates);
        const text = serializeCandidates(candidates);
        next = before.text === text ? { raw, views, node: this.node, candidates: before.candidates, text } : { ...next, text };
      }
    }
    if (next === undefined) this.sources.delete(source);
    else this.sources.set(source, next);
    if (before?.candidates === next?.candidates) return;

    const old = before?.candidates;
    const now = next?.candidates;
    if ((old?.refusals.length ?? 0) > 0 || (now?.refusals.length ?? 0) > 0) this.refusalsDirty = true;
    if (now !== undefined && now.refusals.length > 0) this.sourceRefusals.set(source, now.refusals);
    else this.sourceRefusals.delete(source);

    // Every backend set of the Service, before and after, may have changed.
    const keys = new Set<string>([...(old?.services.keys() ?? []), ...(now?.services.keys() ?? [])]);
    for (const key of keys) this.touch(key);
    for (const key of now?.services.keys() ?? []) this.serviceSource.set(key, source);

    const touched = new Set<string>();
    for (const f of old?.frontends ?? []) {
      const fk = frontendKey(f);
      touched.add(fk);
      const list = this.claims.get(fk);
      if (list === undefined) continue;
      const rest = list.filter((c) => c.source !== source);
      if (rest.length === 0) this.claims.delete(fk);
      else this.claims.set(fk, rest);
    }
    for (const frontend of now?.frontends ?? []) {
      const fk = frontendKey(frontend);
      touched.add(fk);
      const mine: Claim = { source, owner: now!.owner, frontend };
      const list = this.claims.get(fk);
      if (list === undefined) this.claims.set(fk, [mine]);
      else list.push(mine);
    }
    for (const fk of touched) this.settle(fk);
    for (const key of keys) this.publish(key);
  }

  /** Who holds one frontend key now (the whole builder's rule). */
  private settle(fk: string): void {
    const list = this.claims.get(fk) ?? NONE;
    const { winner, refusals } = settleFrontend(list);
    const had = this.conflicts.get(fk);
    if (refusals.length > 0) this.conflicts.set(fk, refusals);
    else this.conflicts.delete(fk);
    if ((had?.length ?? 0) > 0 || refusals.length > 0) this.refusalsDirty = true;

    const was = this.winners.get(fk);
    const now = winner as Claim | undefined;
    if (was === now) return;
    if (was !== undefined) {
      this.touch(was.frontend.service);
      const mine = this.frontendsByService.get(was.frontend.service);
      mine?.delete(fk);
      if (mine?.size === 0) this.frontendsByService.delete(was.frontend.service);
      this.removeFrontend(fk);
      this.winners.delete(fk);
      this.publish(was.frontend.service);
    }
    if (now !== undefined) {
      this.touch(now.frontend.service);
      this.serviceSource.set(now.frontend.service, now.source);
      let mine = this.frontendsByService.get(now.frontend.service);
      if (mine === undefined) {
        mine = new Map();
        this.frontendsByService.set(now.frontend.service, mine);
      }
      mine.set(fk, now.frontend);
      this.addFrontend(fk, now.frontend);
      this.winners.set(fk, now);
      this.publish(now.frontend.service);
    }
  }

  /** A service key is about to change: remember the frontends it had at the previous snapshot. */
  private touch(key: string): void {
    if (this.everything || this.changed.has(key)) return;
    const mine = this.frontendsByService.get(key);
    this.changed.set(key, mine === undefined ? NONE : [...mine.values()]);
  }

  /** A service key is desired while some frontend resolves to it (as in the whole builder). */
  private publish(key: string): void {
    const source = this.serviceSource.get(key);
    const service = source === undefined ? undefined : this.sources.get(source)?.candidates.services.get(key);
    if (service !== undefined && (this.frontendsByService.get(key)?.size ?? 0) > 0) {
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
    this.refusals = sortRefusals(all);
    this.refusalsDirty = false;
    return this.refusals;
  }
}

function sameViews(a: readonly SliceView[] | undefined, b: readonly SliceView[] | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return a.length === b.length && a.every((v, i) => v === b[i]);
}
