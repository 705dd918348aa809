// The controllers' view of the cluster: one client-node ListWatch per watched kind, kept
// alive by this wrapper (STYLE habit 14).
//
// How client-node 1.4 behaves, and what we add:
// - A watch that *ends* cleanly (server timeout, ERROR 410 then end) reconnects by itself;
//   after a 410 it relists and diffs (deletes fire for objects that vanished meanwhile).
// - A watch that *fails* (connection reset or refused, list error) fires 'error' and the
//   informer stays stopped. We start it again after a capped exponential backoff; it resumes
//   from its last resourceVersion, so the server replays what was missed (or answers 410 and
//   we relist). Nothing is lost either way.
// - client-node's Watch has no timeout and never asks for bookmarks, so a half-open
//   connection would go quiet forever. Every `relistIntervalMs` we end each open watch as if
//   the server had said 410 Gone: the informer relists and diffs, repairing anything missed.
// - makeInformer() passes only the label selector to the watch, not a field selector (the
//   pod cache would fill with every pod in the cluster); we build ListWatch ourselves.
// - ListWatch.stop() does not stop a list or a watch request already in flight; we guard the
//   Watch and the list function so nothing reopens after stop(), and stop() waits for them.
//
// - A watch event's object goes through the kind's transform only when it is an object of that
//   kind (ADDED, MODIFIED, DELETED). An ERROR event carries a Status whose `code` tells
//   client-node that the resourceVersion expired (410): shaped like a Service it would lose the
//   code, and the informer would re-watch from the expired version forever.
// - A failed list or watch is remembered per kind (readiness()), counted
//   (balanced_informer_errors_total{kind,code}, see metrics()) and logged, rate-limited
//   (informer-errors.ts).
// - Custom resources are kinds like the others: `vippools` (balanced.dev/v1alpha1 VipPool,
//   cluster-scoped). Before its CRD is installed the list fails with 404: that kind never
//   syncs, and readiness() says why.
//
// Cached objects are plain JSON, from lists (list-request.ts: parsed once, no typed models) and
// from watch events alike, each shaped by the kind's transform.

import { ERROR, ListWatch, Watch } from '@kubernetes/client-node';
import { pino } from 'pino';
import type { Metric } from 'prom-client';
import { compactObject } from './compact.js';
import { listPage, type ListQuery } from './list-request.js';
import { InformerErrors, type CacheLog, type InformerErrorStreak } from './informer-errors.js';
import type { ProbeResult } from './health.js';
import type {
  KubeConfig,
  KubernetesListObject,
  KubernetesObject,
  V1EndpointSlice,
  V1Node,
  V1Pod,
  V1Service,
} from '@kubernetes/client-node';

/** Turns an object as the API sent it into what the cache keeps. */
export type ObjectTransform = (object: KubernetesObject) => KubernetesObject;

export type WatchedKind = 'services' | 'endpointslices' | 'pods' | 'nodes' | 'vippools' | 'localredirectpolicies' | 'balancingpolicies';

/** The built-in kinds (always served). `vippools` needs its CRD, so it is asked for by name. */
export const WATCHED_KINDS: readonly WatchedKind[] = ['services', 'endpointslices', 'pods', 'nodes'];

/** The VipPool CRD: cluster-scoped, group balanced.dev, version v1alpha1. */
export const VIPPOOL_GROUP = 'balanced.dev';
export const VIPPOOL_VERSION = 'v1alpha1';
export const VIPPOOL_PLURAL = 'vippools';
export const VIPPOOL_PATH = `/apis/${VIPPOOL_GROUP}/${VIPPOOL_VERSION}/${VIPPOOL_PLURAL}`;

/** Where each kind is listed and watched (all namespaces). The policy CRDs (deploy/policy-crds.yaml) are cluster-scoped, in VipPool's group and version. */
const WATCH_PATHS: Readonly<Record<WatchedKind, string>> = {
  services: '/api/v1/services',
  endpointslices: '/apis/discovery.k8s.io/v1/endpointslices',
  pods: '/api/v1/pods',
  nodes: '/api/v1/nodes',
  vippools: VIPPOOL_PATH,
  localredirectpolicies: `/apis/${VIPPOOL_GROUP}/${VIPPOOL_VERSION}/localredirectpolicies`,
  balancingpolicies: `/apis/${VIPPOOL_GROUP}/${VIPPOOL_VERSION}/balancingpolicies`,
};

/** The continue token of a list page (empty or absent: the last page). */
function continueOf(list: KubernetesListObject<KubernetesObject>): string | undefined {
  const token = (list.metadata as { continue?: unknown } | undefined)?.continue;
  return typeof token === 'string' && token ? token : undefined;
}

/**
 * How long a kind may keep failing (no successful list or watch) before readiness() turns false.
 * Refused credentials (401, 403) will not heal by themselves and concern this replica only: short.
 * Anything else (API server down, 5xx, network) hits every replica at once, and withdrawing
 * every director over an API outage would turn it into a traffic outage: long.
 */
export const DEFAULT_ERROR_GRACE_MS = { refused: 30_000, other: 120_000 } as const;

/** Injectable clock and timers (tests may drive them); defaults are the global ones. */
export interface CacheTimers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
  now(): number;
}

export interface ClusterCacheOptions {
  kinds: readonly WatchedKind[];
  /** e.g. `spec.nodeName=node-a`; applied to the pod list *and* the pod watch. */
  podFieldSelector?: string;
  podLabelSelector?: string;
  /** Restart delay after a failed watch or list: doubles from min up to max. Default 1000→30000 ms. */
  restartDelayMs?: { min: number; max: number };
  /** End every open watch this often and relist (repairs a silently dead watch). Default 10 min; 0 = never. */
  relistIntervalMs?: number;
  /**
   * stop() waits this long for requests in flight to end. A request whose response never
   * starts (a server that accepted the connection and went silent) cannot be cancelled
   * through client-node 1.4; after this it is abandoned (its result is ignored). Default 5000.
   */
  stopTimeoutMs?: number;
  timers?: Partial<CacheTimers>;
  /** Jitter source for restart delays (±20%). Default Math.random. */
  random?: () => number;
  /**
   * Per kind, what to keep of each object as it enters the cache (client-go's SetTransform):
   * e.g. desiredStateTransforms. Default: the whole object, compacted (compactObject).
   * A transform must keep metadata.name, namespace and resourceVersion.
   */
  transform?: Partial<Record<WatchedKind, ObjectTransform>>;
  /** Where failed lists and watches are logged (rate-limited). Default: a pino logger on stderr. */
  log?: CacheLog;
  /** Default DEFAULT_ERROR_GRACE_MS. */
  errorGraceMs?: { refused: number; other: number };
  /** While a kind keeps failing, log it again at most this often. Default 60 000 ms. */
  errorLogIntervalMs?: number;
  /**
   * List in pages of this many objects (limit/continue), so a large cluster never arrives as one
   * huge response. Default 500; 0 = one request.
   */
  listPageSize?: number;
}

export interface ClusterCacheStats {
  /** Informer restarts after a failed watch or list. */
  restarts: number;
  /** Lists after each kind's first one (410 Gone, periodic relist). */
  relists: number;
  /** Clock time of the last list or watch event, any kind. */
  lastEventAt: number | undefined;
  /** onChange listeners that threw (the error is swallowed so the informer keeps going). */
  listenerErrors: number;
  /** Requests (and the informer starts waiting on them) still pending when stop() gave up on them (see stopTimeoutMs). */
  abandonedRequests: number;
  /** Failed lists and watches (each one also counts in metrics()). */
  errors: number;
}

export interface ClusterCache {
  services(): readonly V1Service[];
  endpointSlices(): readonly V1EndpointSlice[];
  pods(): readonly V1Pod[];
  nodes(): readonly V1Node[];
  /** VipPool objects (plain JSON), when the cache watches `vippools`. */
  vipPools(): readonly KubernetesObject[];
  /** LocalRedirectPolicy objects (plain JSON, group balanced.dev/v1alpha1), when the cache watches `localredirectpolicies`. */
  localRedirectPolicies(): readonly KubernetesObject[];
  /** BalancingPolicy objects (plain JSON, group balanced.dev/v1alpha1), when the cache watches `balancingpolicies`. */
  balancingPolicies(): readonly KubernetesObject[];
  /**
   * Called after every add/update/delete (with the object: the new one, or the last known one
   * for a delete) and after every (re)list (without one: anything of that kind may have
   * changed, read the whole list). Returns an unsubscribe.
   */
  onChange(listener: ChangeListener): () => void;
  /** Every informer (or the one of `kind`) has listed at least once. */
  synced(kind?: WatchedKind): boolean;
  /** Starts the informers; resolves once synced (rejects if stop() comes first). */
  start(): Promise<void>;
  /** Stops the informers and timers; resolves when no request is left open. */
  stop(): Promise<void>;
  stats(): ClusterCacheStats;
  /** The kind's current run of failures (undefined: its last list or watch succeeded). */
  lastError(kind: WatchedKind): InformerErrorStreak | undefined;
  /**
   * Ready = every kind has listed, and no kind has kept failing beyond its grace period
   * (errorGraceMs). The detail names what is wrong. (See health.ts.)
   */
  readiness(): ProbeResult;
  /** balanced_informer_errors_total{kind,code}: register it where /metrics reads (startHealthServer does). */
  metrics(): readonly Metric[];
}

/** One object that was added, updated or deleted. */
export interface ObjectChange {
  readonly type: 'add' | 'update' | 'delete';
  readonly object: KubernetesObject;
}

export type ChangeListener = (kind: WatchedKind, change?: ObjectChange) => void;

export const DEFAULT_RESTART_DELAY_MS = { min: 1000, max: 30_000 } as const;
export const DEFAULT_RELIST_INTERVAL_MS = 10 * 60_000;

interface Slot {
  readonly kind: WatchedKind;
  readonly informer: ListWatch<KubernetesObject>;
  /** Has listed (and applied the list) at least once. */
  listed: boolean;
  /** A list resolved and ListWatch is applying it; the next watch() call means it's applied. */
  listApplied: boolean;
  failures: number;
  restartTimer: unknown;
  relistTimer: unknown;
  /** Ends the open watch as a 410 would (forces a relist); undefined when none is open. */
  endWatch: (() => void) | undefined;
}

class StoppedError extends Error {
  override readonly name = 'StoppedError';
  constructor() {
    super('cluster cache stopped');
  }
}

export function createClusterCache(kc: KubeConfig, options: ClusterCacheOptions): ClusterCache {
  const timers: CacheTimers = {
    setTimeout: options.timers?.setTimeout ?? ((fn, ms) => setTimeout(fn, ms)),
    clearTimeout: options.timers?.clearTimeout ?? ((h) => clearTimeout(h as ReturnType<typeof setTimeout>)),
    now: options.timers?.now ?? (() => Date.now()),
  };
  const delays = options.restartDelayMs ?? DEFAULT_RESTART_DELAY_MS;
  if (!(delays.min > 0 && delays.max >= delays.min)) {
    throw new RangeError(`restartDelayMs: need 0 < min <= max, got ${delays.min}..${delays.max}`);
  }
  const relistIntervalMs = options.relistIntervalMs ?? DEFAULT_RELIST_INTERVAL_MS;
  const random = options.random ?? Math.random;
  const kinds = [...new Set(options.kinds)];

  const listeners = new Set<ChangeListener>();
  const inflight = new Set<Promise<unknown>>();
  const slots = new Map<WatchedKind, Slot>();
  const stats: ClusterCacheStats = { restarts: 0, relists: 0, lastEventAt: undefined, listenerErrors: 0, abandonedRequests: 0, errors: 0 };
  const shapeOf = (kind: WatchedKind): ObjectTransform => options.transform?.[kind] ?? compactObject;
  let defaultLog: CacheLog | undefined;
  const errors = new InformerErrors({
    log: options.log ?? {
      warn: (fields, message) => (defaultLog ??= pino({ name: 'cluster-cache' }, pino.destination(2))).warn(fields, message),
      info: (fields, message) => (defaultLog ??= pino({ name: 'cluster-cache' }, pino.destination(2))).info(fields, message),
    },
    now: timers.now,
    logIntervalMs: options.errorLogIntervalMs ?? 60_000,
  });
  const grace = options.errorGraceMs ?? DEFAULT_ERROR_GRACE_MS;
  let started = false;
  let stopped = false;
  let syncWaiter: { promise: Promise<void>; resolve: () => void; reject: (err: Error) => void } | undefined;

  function track<T>(p: Promise<T>): Promise<T> {
    inflight.add(p);
    void p.then(
      () => inflight.delete(p),
      () => inflight.delete(p),
    );
    return p;
  }

  function emit(kind: WatchedKind, change?: ObjectChange): void {
    for (const listener of [...listeners]) {
      try {
        listener(kind, change);
      } catch {
        stats.listenerErrors++;
      }
    }
  }

  function checkSynced(): void {
    if (syncWaiter !== undefined && isSynced()) syncWaiter.resolve();
  }

  function isSynced(): boolean {
    return [...slots.values()].every((s) => s.listed);
  }

  function scheduleRelist(slot: Slot): void {
    if (relistIntervalMs <= 0 || stopped) return;
    slot.relistTimer = timers.setTimeout(() => {
      slot.relistTimer = undefined;
      slot.endWatch?.();
      scheduleRelist(slot);
    }, relistIntervalMs);
  }

  function restartDelay(failures: number): number {
    const base = Math.min(delays.max, delays.min * 2 ** Math.min(failures, 30));
    return Math.max(delays.min, Math.min(delays.max, Math.round(base * (0.8 + 0.4 * random()))));
  }

  function onFailure(slot: Slot, err: unknown): void {
    if (stopped) return;
    stats.errors++;
    errors.failed(slot.kind, err);
    if (slot.restartTimer !== undefined) return;
    const delay = restartDelay(slot.failures);
    slot.failures++;
    slot.restartTimer = timers.setTimeout(() => {
      slot.restartTimer = undefined;
      if (stopped) return;
      stats.restarts++;
      run(slot);
    }, delay);
  }

  function run(slot: Slot): void {
    // start() rejects only if building the request fails (e.g. an unreadable token file);
    // that is a failure like any other.
    void track(slot.informer.start()).catch((err: unknown) => onFailure(slot, err));
  }

  /** A Watch that reports to its slot and refuses to (re)open anything after stop(). */
  class GuardedWatch extends Watch {
    constructor(private readonly slot: Slot) {
      super(kc);
    }

    override watch(
      path: string,
      queryParams: Record<string, string | number | boolean | undefined>,
      callback: (phase: string, apiObj: unknown, watchObj?: unknown) => void,
      done: (err: unknown) => void,
    ): Promise<AbortController> {
      return track(this.open(path, queryParams, callback, done));
    }

    private async open(
      path: string,
      queryParams: Record<string, string | number | boolean | undefined>,
      callback: (phase: string, apiObj: unknown, watchObj?: unknown) => void,
      done: (err: unknown) => void,
    ): Promise<AbortController> {
      const slot = this.slot;
      // ListWatch calls watch() right after applying a list: the cache now holds it.
      if (slot.listApplied) {
        slot.listApplied = false;
        if (slot.listed) stats.relists++;
        slot.listed = true;
        emit(slot.kind);
        checkSynced();
      }
      const idle = new AbortController();
      idle.abort();
      if (stopped) return idle; // never call done: the informer stays idle

      let finished = false;
      const finish = (err: unknown): void => {
        if (finished) return;
        finished = true;
        slot.endWatch = undefined;
        done(err);
      };
      let controller: AbortController;
      try {
        controller = await super.watch(
          path,
          queryParams,
          (phase, apiObj, watchObj) => {
            if (finished) return; // a forced relist is under way; this stream is stale
            stats.lastEventAt = timers.now();
            // Only objects of this kind are shaped: an ERROR's Status (its code: 410 means relist) and a BOOKMARK pass whole.
            const ofKind = phase === 'ADDED' || phase === 'MODIFIED' || phase === 'DELETED';
            if (phase === 'ERROR') inStreamError(slot, apiObj);
            callback(phase, ofKind ? shapeOf(slot.kind)(apiObj as KubernetesObject) : apiObj, watchObj);
          },
          finish,
        );
      } catch (err) {
        finish(err);
        return idle;
      }
      if (finished) return controller; // refused, 4xx/5xx: 'error' fired (or 410: relisting)
      if (stopped) {
        controller.abort();
        return controller;
      }
      slot.failures = 0; // connected: the next failure starts the backoff over
      errors.succeeded(slot.kind); // (a list alone does not end a streak: a forbidden watch follows it)
      // Ending as a 410 makes ListWatch drop its resourceVersion, relist and diff.
      slot.endWatch = () => finish(Object.assign(new Error('periodic relist'), { statusCode: 410 }));
      return controller;
    }
  }

  function addSlot(
    kind: WatchedKind,
    path: string,
    list: () => Promise<KubernetesListObject<KubernetesObject>>,
    labelSelector?: string,
    fieldSelector?: string,
  ): void {
    const slot = { kind, listed: false, listApplied: false, failures: 0 } as Slot;
    const listFn = (): Promise<KubernetesListObject<KubernetesObject>> =>
      track(
        (async () => {
          const result = await list();
          if (stopped) throw new StoppedError(); // don't let ListWatch open a watch now
          stats.lastEventAt = timers.now();
          slot.listApplied = true;
          return result;
        })(),
      );
    const informer = new ListWatch<KubernetesObject>(path, new GuardedWatch(slot), listFn, false, labelSelector, fieldSelector);
    Object.assign(slot, { informer });
    for (const verb of ['add', 'update', 'delete'] as const) informer.on(verb, (object: KubernetesObject) => emit(kind, { type: verb, object }));
    informer.on(ERROR, (err: unknown) => onFailure(slot, err));
    slots.set(kind, slot);
  }

  /** An ERROR event in a watch stream: 410 means relist (client-node does it); anything else is a failure worth counting. */
  function inStreamError(slot: Slot, status: unknown): void {
    const code = (status as { code?: unknown } | null)?.code;
    if (code === 410) return;
    stats.errors++;
    const message = (status as { message?: unknown } | null)?.message;
    errors.failed(slot.kind, Object.assign(new Error(`watch ERROR event: ${typeof message === 'string' ? message : JSON.stringify(status)}`), typeof code === 'number' ? { statusCode: code } : {}));
  }

  const pageSize = options.listPageSize ?? 500;
  /** One consistent list, fetched page by page (every page is of the first page's snapshot), as plain JSON (list-request.ts). */
  async function paged(kind: WatchedKind, path: string, selectors: Pick<ListQuery, 'labelSelector' | 'fieldSelector'>): Promise<KubernetesListObject<KubernetesObject>> {
    const shape = shapeOf(kind);
    const limit = pageSize > 0 ? pageSize : undefined;
    const first = await listPage(kc, path, { ...selectors, limit });
    first.items = first.items.map(shape);
    let token = limit === undefined ? undefined : continueOf(first);
    while (token) {
      if (stopped) throw new StoppedError();
      const next = await listPage(kc, path, { ...selectors, limit, continue: token });
      for (const item of next.items) first.items.push(shape(item));
      token = continueOf(next);
    }
    if (first.metadata) delete (first.metadata as { continue?: string }).continue;
    return first;
  }

  for (const kind of kinds) {
    const path = WATCH_PATHS[kind];
    if (kind === 'pods') {
      const fieldSelector = options.podFieldSelector || undefined;
      const labelSelector = options.podLabelSelector || undefined;
      addSlot(kind, path, () => paged(kind, path, { fieldSelector, labelSelector }), labelSelector, fieldSelector);
    } else {
      addSlot(kind, path, () => paged(kind, path, {}));
    }
  }

  function listOf<T>(kind: WatchedKind): readonly T[] {
    return (slots.get(kind)?.informer.list() ?? []) as readonly T[];
  }

  return {
    services: () => listOf<V1Service>('services'),
    endpointSlices: () => listOf<V1EndpointSlice>('endpointslices'),
    pods: () => listOf<V1Pod>('pods'),
    nodes: () => listOf<V1Node>('nodes'),
    vipPools: () => listOf<KubernetesObject>('vippools'),
    localRedirectPolicies: () => listOf<KubernetesObject>('localredirectpolicies'),
    balancingPolicies: () => listOf<KubernetesObject>('balancingpolicies'),

    onChange(listener) {
      listeners.add(listener);
      return () => {
        listeners.delete(listener);
      };
    },

    synced: (kind) => (kind === undefined ? isSynced() : slots.get(kind)?.listed === true),

    start() {
      if (stopped) return Promise.reject(new StoppedError());
      if (syncWaiter !== undefined) return syncWaiter.promise;
      let resolve!: () => void;
      let reject!: (err: Error) => void;
      const promise = new Promise<void>((res, rej) => {
        resolve = res;
        reject = rej;
      });
      syncWaiter = { promise, resolve, reject };
      if (!started) {
        started = true;
        for (const slot of slots.values()) {
          run(slot);
        }
        const firstSync = promise.then(() => {
          for (const slot of slots.values()) scheduleRelist(slot);
        });
        firstSync.catch(() => undefined);
      }
      checkSynced();
      return promise;
    },

    async stop() {
      if (stopped) return;
      stopped = true;
      syncWaiter?.reject(new StoppedError());
      for (const slot of slots.values()) {
        if (slot.restartTimer !== undefined) timers.clearTimeout(slot.restartTimer);
        if (slot.relistTimer !== undefined) timers.clearTimeout(slot.relistTimer);
        slot.restartTimer = slot.relistTimer = slot.endWatch = undefined;
        await slot.informer.stop();
      }
      // Requests that were in flight finish (and abort themselves: see GuardedWatch/listFn),
      // unless one never gets an answer: then stop() gives up on it after stopTimeoutMs.
      let waitTimer: unknown;
      const gaveUp = new Promise<'timeout'>((resolve) => {
        waitTimer = timers.setTimeout(() => resolve('timeout'), options.stopTimeoutMs ?? 5000);
      });
      while (inflight.size > 0) {
        const outcome = await Promise.race([Promise.allSettled([...inflight]), gaveUp]);
        if (outcome === 'timeout') {
          stats.abandonedRequests = inflight.size;
          break;
        }
      }
      timers.clearTimeout(waitTimer);
      for (const slot of slots.values()) await slot.informer.stop();
    },

    stats: () => ({ ...stats }),

    lastError: (kind) => errors.streak(kind),

    readiness() {
      const now = timers.now();
      const problems: string[] = [];
      let ok = true;
      for (const slot of slots.values()) {
        const streak = errors.streak(slot.kind);
        if (!slot.listed) {
          ok = false;
          problems.push(`${slot.kind} not listed yet${streak === undefined ? '' : ` (${streak.message})`}`);
          continue;
        }
        if (streak === undefined) continue;
        const refused = streak.code === '401' || streak.code === '403';
        const allowed = refused ? grace.refused : grace.other;
        const failingMs = now - streak.since;
        if (failingMs > allowed) ok = false;
        problems.push(`${slot.kind} failing for ${Math.round(failingMs / 1000)} s${failingMs > allowed ? '' : ` (grace ${Math.round(allowed / 1000)} s)`}: ${streak.message}`);
      }
      return problems.length === 0 ? { ok, detail: `informers synced: ${[...slots.keys()].join(', ')}` } : { ok, detail: problems.join('; ') };
    },

    metrics: () => [errors.counter],
  };
}
