import type { KubernetesObject, V1EndpointSlice, V1Pod, V1Service } from '@kubernetes/client-node';
import { serviceKeyString } from '@balanced/ipvs';
import {
  buildKeepingLastGood,
  endpointSlicePodRefs,
  endpointSliceServiceKey,
  namespacedKey,
  resolveVipPortConflicts,
  type DesiredService as K8sDesiredService,
  type ObjectChange,
  type Refusal,
  type ServiceCandidate,
} from '@balanced/k8s';
import type { DesiredService } from './model.js';

export interface ClusterSnapshot {
  services(): readonly V1Service[];
  endpointSlices(): readonly V1EndpointSlice[];
  pods(): readonly V1Pod[];
}

export interface DesiredIndexOptions {
  /** The informer caches: read whole only after a (re)list, or on the first snapshot. */
  readonly cluster: ClusterSnapshot;
  readonly ownsVip: (ip: string) => boolean;
  readonly defaultClass: boolean;
  readonly defaultDrainSeconds: number;
  /** Every refusal and warning that stands, whenever a snapshot rebuilt something. */
  readonly onRefusals?: (refusals: readonly Refusal[], warnings: readonly Refusal[]) => void;
}

/** What the reconciler plans against. */
export interface DesiredSnapshot {
  /** Every desired virtual service, by serviceKeyString(key). */
  readonly services: ReadonlyMap<string, DesiredService>;
  /** Virtual services whose desired state may differ from the previous snapshot ('all': any). */
  readonly changed: ReadonlySet<string> | 'all';
  /** VIPs the desired services use, sorted. */
  readonly vips: readonly string[];
  readonly vipsChanged: boolean;
}

/** The Service port behind a virtual service, and the Service's EndpointSlices (see DesiredIndex.owner). */
export interface VirtualServiceOwner {
  readonly namespace: string;
  /** The Service's name. */
  readonly name: string;
  /** The Service port's name ('' when unnamed). */
  readonly portName: string;
  readonly port: number;
  readonly endpointSlices: readonly V1EndpointSlice[];
}

interface SourceState {
  readonly candidates: readonly ServiceCandidate[];
  /** The candidates are a last good state kept through an annotation error. */
  readonly kept: boolean;
  readonly refusals: readonly Refusal[];
  readonly warnings: readonly Refusal[];
  readonly pods: readonly string[];
}

interface Claim {
  /** The Service (namespace/name) that claims the virtual service. */
  readonly source: string;
  readonly candidate: ServiceCandidate;
  /** The candidate is a last good state kept through an annotation error. */
  readonly kept: boolean;
}

type Kind = 'services' | 'endpointslices' | 'pods';
const KINDS: readonly Kind[] = ['services', 'endpointslices', 'pods'];

const NONE: readonly never[] = Object.freeze([]);
/** An empty list is the shared NONE (a director keeps a few lists per Service, nearly all empty). */
const orNone = <T>(list: readonly T[]): readonly T[] => (list.length === 0 ? NONE : list);

const EMPTY: SourceState = { candidates: [], kept: false, refusals: [], warnings: [], pods: [] };

/** namespace/name of an informer object; fields that are not strings (malformed) read as ''. */
function nameKey(o: KubernetesObject): string {
  const text = (v: unknown): string => (typeof v === 'string' ? v : '');
  return namespacedKey(text(o.metadata?.namespace), text(o.metadata?.name));
}

/**
 * The desired IPVS state, kept up to date one Service at a time. Informer events mark the
 * Service they concern dirty (an EndpointSlice its Service, a Pod the Services whose slices
 * point at it); a snapshot rebuilds only dirty Services with the pure builder of @balanced/k8s
 * and settles VIP:port conflicts only for the virtual services they touch. The result is the
 * same as buildDesired over the whole cache (a property test holds it to that), at a cost
 * proportional to the change. After a (re)list the kind is read whole and everything is rebuilt.
 *
 * A Service that was programmed and is now refused for an invalid annotation keeps its last
 * good state (a typo on a live Service must not take it down), across restarts too: see
 * buildKeepingLastGood in @balanced/k8s. The refusal still stands.
 */
export class DesiredIndex {
  private readonly services = new Map<string, V1Service>();
  private readonly slices = new Map<string, { owner: string | undefined; object: V1EndpointSlice }>();
  /** Service (namespace/name) → its slices. (Arrays, not Maps: there is usually one, and a director holds one per Service.) */
  private readonly slicesByOwner = new Map<string, V1EndpointSlice[]>();
  private readonly pods = new Map<string, V1Pod>();
  /** Pod (namespace/name) → the Service(s) whose slices point at it: usually one, kept as a string. */
  private readonly podUsers = new Map<string, string | Set<string>>();
  private readonly sources = new Map<string, SourceState>();
  /** Virtual service id → Service (namespace/name) → its candidate (and whether it is kept). */
  private readonly claims = new Map<string, Claim[]>();
  private readonly winners = new Map<string, K8sDesiredService>();
  private readonly conflicts = new Map<string, readonly Refusal[]>();
  private readonly vipUse = new Map<string, number>();
  private vipList: string[] = [];
  private vipsChanged = true;
  private readonly dirty = new Set<string>();
  private readonly relist = new Set<Kind>(KINDS);
  private changed = new Set<string>();
  private everything = true;

  constructor(private readonly options: DesiredIndexOptions) {}

  /** Feed it the cluster cache's onChange: an object change, or a (re)list of a kind. */
  observe(kind: string, change?: ObjectChange): void {
    if (!(KINDS as readonly string[]).includes(kind)) return;
    if (change === undefined) {
      this.relist.add(kind as Kind);
      return;
    }
    const gone = change.type === 'delete';
    switch (kind as Kind) {
      case 'services':
        this.putService(change.object as V1Service, gone);
        break;
      case 'endpointslices':
        this.putSlice(change.object as V1EndpointSlice, gone);
        break;
      case 'pods':
        this.putPod(change.object as V1Pod, gone);
        break;
    }
  }

  /** The VIP ranges changed (ownsVip answers differently): every Service is rebuilt at the next snapshot. */
  ownershipChanged(): void {
    for (const key of this.services.keys()) this.dirty.add(key);
    for (const key of this.sources.keys()) this.dirty.add(key);
    this.everything = true;
  }

  /** Rebuild what is dirty; the changes reported are those since the previous snapshot. */
  snapshot(): DesiredSnapshot {
    const rebuilt = this.relist.size > 0 || this.dirty.size > 0;
    if (this.relist.size > 0) this.reread();
    for (const source of this.dirty) this.rebuild(source);
    this.dirty.clear();
    if (rebuilt) this.options.onRefusals?.(...this.allRefusals());
    if (this.vipsChanged) this.vipList = [...this.vipUse.keys()].sort();
    const snapshot: DesiredSnapshot = {
      services: this.winners,
      changed: this.everything ? 'all' : this.changed,
      vips: this.vipList,
      vipsChanged: this.vipsChanged,
    };
    this.changed = new Set();
    this.everything = false;
    this.vipsChanged = false;
    return snapshot;
  }

  /**
   * The Service port that holds a virtual service (by serviceKeyString) in the last snapshot,
   * with that Service's EndpointSlices as the index holds them now: the Kubernetes names of
   * what the director programs, for metrics labels, without a second cache.
   */
  owner(id: string): VirtualServiceOwner | undefined {
    const service = this.winners.get(id);
    if (service === undefined) return undefined;
    const slices = this.slicesByOwner.get(namespacedKey(service.source.namespace, service.source.name)) ?? NONE;
    return { namespace: service.source.namespace, name: service.source.name, portName: service.portName, port: service.key.port, endpointSlices: slices };
  }

  // ---- observing ----------------------------------------------------------------------

  private putService(object: V1Service, gone: boolean): void {
    const key = nameKey(object);
    if (gone) this.services.delete(key);
    else this.services.set(key, object);
    this.dirty.add(key);
  }

  private putSlice(object: V1EndpointSlice, gone: boolean): void {
    const id = nameKey(object);
    const before = this.slices.get(id);
    if (before?.owner !== undefined) {
      const mine = this.slicesByOwner.get(before.owner);
      if (mine !== undefined) {
        const rest = mine.filter((o) => o !== before.object);
        if (rest.length === 0) this.slicesByOwner.delete(before.owner);
        else this.slicesByOwner.set(before.owner, rest);
      }
      this.dirty.add(before.owner);
    }
    if (gone) {
      this.slices.delete(id);
      return;
    }
    const owner = endpointSliceServiceKey(object);
    this.slices.set(id, { owner, object });
    if (owner === undefined) return;
    const mine = this.slicesByOwner.get(owner);
    if (mine === undefined) this.slicesByOwner.set(owner, [object]);
    else mine.push(object);
    this.dirty.add(owner);
  }

  private putPod(object: V1Pod, gone: boolean): void {
    const key = nameKey(object);
    if (gone) this.pods.delete(key);
    else this.pods.set(key, object);
    const users = this.podUsers.get(key);
    if (typeof users === 'string') this.dirty.add(users);
    else for (const source of users ?? []) this.dirty.add(source);
  }

  /** After a (re)list: read the kind whole; every Service is rebuilt. */
  private reread(): void {
    const c = this.options.cluster;
    if (this.relist.has('services')) {
      this.services.clear();
      for (const s of c.services()) this.services.set(nameKey(s), s);
    }
    if (this.relist.has('endpointslices')) {
      this.slices.clear();
      this.slicesByOwner.clear();
      for (const s of c.endpointSlices()) this.putSlice(s, false);
    }
    if (this.relist.has('pods')) {
      this.pods.clear();
      for (const p of c.pods()) this.pods.set(nameKey(p), p);
    }
    this.relist.clear();
    for (const key of this.services.keys()) this.dirty.add(key);
    for (const key of this.sources.keys()) this.dirty.add(key);
    this.everything = true;
  }

  // ---- rebuilding ---------------------------------------------------------------------

  private rebuild(source: string): void {
    const before = this.sources.get(source) ?? EMPTY;
    const service = this.services.get(source);
    let next = EMPTY;
    if (service !== undefined) {
      const slices = this.slicesByOwner.get(source) ?? [];
      const podKeys = [...new Set(slices.flatMap((s) => endpointSlicePodRefs(s)))];
      const pods = podKeys.map((k) => this.pods.get(k)).filter((p): p is V1Pod => p !== undefined);
      // A Service refused for its annotations keeps its last good state (recorded in the
      // cluster, else this process's last build): the rule shared with the vip-announcer.
      const built = buildKeepingLastGood(
        {
          service,
          endpointSlices: slices,
          pods,
          ownsVip: this.options.ownsVip,
          defaultClass: this.options.defaultClass,
          defaults: { drainSeconds: this.options.defaultDrainSeconds },
        },
        before.candidates,
      );
      next = {
        candidates: built.candidates,
        kept: built.kept,
        refusals: orNone(built.refusals),
        warnings: orNone(built.warnings),
        pods: orNone(podKeys),
      };
    }
    this.indexPods(source, before.pods, next.pods);
    if (next === EMPTY) this.sources.delete(source);
    else this.sources.set(source, next);

    const touched = new Set<string>();
    for (const c of before.candidates) {
      const id = serviceKeyString(c.service.key);
      touched.add(id);
      const rest = this.claims.get(id)?.filter((c) => c.source !== source);
      if (rest !== undefined) this.claims.set(id, rest);
    }
    for (const c of next.candidates) {
      const id = serviceKeyString(c.service.key);
      touched.add(id);
      const claim = this.claims.get(id);
      const mine: Claim = { source, candidate: c, kept: next.kept };
      if (claim === undefined) this.claims.set(id, [mine]);
      else {
        const at = claim.findIndex((x) => x.source === source); // one claim per Service and id, as a Map would keep
        if (at === -1) claim.push(mine);
        else claim[at] = mine;
      }
    }
    for (const id of touched) this.settle(id);
  }

  private indexPods(source: string, before: readonly string[], after: readonly string[]): void {
    for (const p of before) {
      const users = this.podUsers.get(p);
      if (users === source) this.podUsers.delete(p);
      else if (typeof users === 'object') {
        users.delete(source);
        if (users.size === 1) this.podUsers.set(p, [...users][0] as string);
      }
    }
    for (const p of after) {
      const users = this.podUsers.get(p);
      if (users === undefined) this.podUsers.set(p, source);
      else if (typeof users === 'string') {
        if (users !== source) this.podUsers.set(p, new Set([users, source]));
      } else users.add(source);
    }
  }

  /** Who holds one VIP:port now: fresh claims before kept ones, then the older Service. */
  private settle(id: string): void {
    const claim = this.claims.get(id);
    const all = claim ?? [];
    const fresh = all.filter((c) => !c.kept).map((c) => c.candidate);
    const contenders = fresh.length > 0 ? fresh : all.map((c) => c.candidate);
    const resolved = resolveVipPortConflicts(contenders);
    const winner: K8sDesiredService | undefined = resolved.services[0];
    if (claim?.length === 0) this.claims.delete(id);
    if (fresh.length > 0 && resolved.refusals.length > 0) this.conflicts.set(id, resolved.refusals);
    else this.conflicts.delete(id);

    const before = this.winners.get(id);
    if (before === winner) return;
    this.changed.add(id);
    if (before !== undefined) this.useVip(before.spec.key, -1);
    if (winner === undefined) {
      this.winners.delete(id);
    } else {
      this.winners.set(id, winner);
      this.useVip(winner.spec.key, 1);
    }
  }

  private useVip(key: DesiredService['spec']['key'], delta: number): void {
    if ('fwmark' in key) return;
    const n = (this.vipUse.get(key.address) ?? 0) + delta;
    if (n <= 0) {
      this.vipUse.delete(key.address);
      this.vipsChanged = true;
    } else {
      if (!this.vipUse.has(key.address)) this.vipsChanged = true;
      this.vipUse.set(key.address, n);
    }
  }

  private allRefusals(): [Refusal[], Refusal[]] {
    const refusals: Refusal[] = [];
    const warnings: Refusal[] = [];
    for (const s of this.sources.values()) {
      refusals.push(...s.refusals);
      warnings.push(...s.warnings);
    }
    for (const r of this.conflicts.values()) refusals.push(...r);
    return [refusals, warnings];
  }
}

/**
 * The whole desired state from a snapshot of the caches, each call rebuilt from scratch (for
 * callers without informer events: tests, the CLI, benchmarks' checks).
 */
export function desiredSource(options: DesiredIndexOptions): () => DesiredService[] {
  const index = new DesiredIndex(options);
  return () => {
    for (const kind of KINDS) index.observe(kind);
    return [...index.snapshot().services.values()].sort((a, b) => compareIds(a, b));
  };
}

function compareIds(a: DesiredService, b: DesiredService): number {
  const x = serviceKeyString(a.spec.key);
  const y = serviceKeyString(b.spec.key);
  return x < y ? -1 : x > y ? 1 : 0;
}
