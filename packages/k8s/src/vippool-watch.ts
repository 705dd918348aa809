// A watch-backed cache of VipPool objects (cluster-scoped custom resources), shared by the
// vip-allocator (address ranges) and the vip-announcer (BGP communities). createClusterCache
// serves only built-in kinds, so this is client-node's ListWatch with the same recovery
// habits, kept small (pools are few and change rarely):
// - a failed list or watch (refused, 404 before the CRD is installed, …) restarts after a
//   capped, doubling delay;
// - every relistIntervalMs the open watch is ended as a 410 would end it: ListWatch relists
//   and diffs, repairing a silently dead connection;
// - nothing reopens after stop().

import { ApiException, CustomObjectsApi, ListWatch, Watch } from '@kubernetes/client-node';
import type { KubeConfig, KubernetesListObject, KubernetesObject } from '@kubernetes/client-node';


/** The VipPool CRD: cluster-scoped, group balanced.dev, version v1alpha1. */
export const VIPPOOL_GROUP = 'balanced.dev';
export const VIPPOOL_VERSION = 'v1alpha1';
export const VIPPOOL_PLURAL = 'vippools';

export interface PoolWatchTimers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export interface PoolWatchOptions {
  /** Default 1000 → 30 000 ms. */
  restartDelayMs?: { min: number; max: number };
  /** Default 10 min; 0 = never. */
  relistIntervalMs?: number;
  timers?: PoolWatchTimers;
}

export interface PoolWatch {
  /** The VipPool objects as last seen (plain JSON). */
  objects(): readonly unknown[];
  /** Called after every change and every (re)list. */
  onChange(listener: () => void): void;
  /** Listed at least once. */
  synced(): boolean;
  /** The last list or watch failure since the last success, for /readyz and logs. */
  lastError(): string | undefined;
  /** Starts watching; resolves after the first list (rejects if stop() comes first). */
  start(): Promise<void>;
  stop(): Promise<void>;
}

export const VIPPOOL_PATH = `/apis/${VIPPOOL_GROUP}/${VIPPOOL_VERSION}/${VIPPOOL_PLURAL}`;

export function watchVipPools(kc: KubeConfig, options: PoolWatchOptions = {}): PoolWatch {
  const api = kc.makeApiClient(CustomObjectsApi);
  const timers: PoolWatchTimers = options.timers ?? { setTimeout: (fn, ms) => setTimeout(fn, ms), clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>) };
  const delays = options.restartDelayMs ?? { min: 1000, max: 30_000 };
  const relistIntervalMs = options.relistIntervalMs ?? 10 * 60_000;
  const listeners: Array<() => void> = [];
  const inflight = new Set<Promise<unknown>>();
  let stopped = false;
  let listed = false;
  let listApplied = false;
  let failures = 0;
  let error: string | undefined;
  let restartTimer: unknown;
  let relistTimer: unknown;
  let endWatch: (() => void) | undefined;
  let controller: AbortController | undefined;
  let sync: { resolve: () => void; reject: (e: Error) => void; promise: Promise<void> } | undefined;

  const notify = (): void => {
    for (const l of listeners) {
      try {
        l();
      } catch {
        // a listener's failure must not stop the watch
      }
    }
  };
  const track = <T>(p: Promise<T>): Promise<T> => {
    inflight.add(p);
    void p.then(
      () => inflight.delete(p),
      () => inflight.delete(p),
    );
    return p;
  };

  class GuardedWatch extends Watch {
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
      if (listApplied) {
        // ListWatch opens the watch right after applying a list: the cache holds it now.
        listApplied = false;
        listed = true;
        error = undefined;
        sync?.resolve();
        notify();
      }
      const idle = new AbortController();
      idle.abort();
      if (stopped) return idle;
      let finished = false;
      const finish = (err: unknown): void => {
        if (finished) return;
        finished = true;
        endWatch = undefined;
        done(err);
      };
      try {
        controller = await super.watch(path, queryParams, (phase, obj, raw) => (finished ? undefined : callback(phase, obj, raw)), finish);
      } catch (err) {
        finish(err);
        return idle;
      }
      if (stopped) controller.abort();
      else if (!finished) {
        failures = 0;
        endWatch = () => finish(Object.assign(new Error('periodic relist'), { statusCode: 410 }));
      }
      return controller;
    }
  }

  const informer = new ListWatch<KubernetesObject>(
    VIPPOOL_PATH,
    new GuardedWatch(kc),
    () =>
      track(
        (async () => {
          const list = (await api.listClusterCustomObject({ group: VIPPOOL_GROUP, version: VIPPOOL_VERSION, plural: VIPPOOL_PLURAL })) as KubernetesListObject<KubernetesObject>;
          if (stopped) throw new Error('stopped');
          listApplied = true;
          return list;
        })(),
      ),
    false,
  );
  for (const verb of ['add', 'update', 'delete'] as const) informer.on(verb, () => notify());
  informer.on('error', (err: unknown) => {
    error = describe(err);
    if (stopped || restartTimer !== undefined) return;
    const delay = Math.min(delays.max, delays.min * 2 ** Math.min(failures, 30));
    failures++;
    restartTimer = timers.setTimeout(() => {
      restartTimer = undefined;
      if (!stopped) run();
    }, delay);
  });

  function run(): void {
    void track(informer.start()).catch((err: unknown) => {
      error = describe(err);
    });
  }

  function scheduleRelist(): void {
    if (relistIntervalMs <= 0 || stopped) return;
    relistTimer = timers.setTimeout(() => {
      relistTimer = undefined;
      endWatch?.();
      scheduleRelist();
    }, relistIntervalMs);
  }

  return {
    objects: () => informer.list(),
    onChange: (listener) => void listeners.push(listener),
    synced: () => listed,
    lastError: () => error,
    start() {
      if (stopped) return Promise.reject(new Error('pool watch stopped'));
      if (sync !== undefined) return sync.promise;
      let resolve!: () => void;
      let reject!: (e: Error) => void;
      const promise = new Promise<void>((res, rej) => {
        resolve = res;
        reject = rej;
      });
      promise.catch(() => undefined);
      sync = { resolve, reject, promise };
      run();
      scheduleRelist();
      return promise;
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      sync?.reject(new Error('pool watch stopped'));
      timers.clearTimeout(restartTimer);
      timers.clearTimeout(relistTimer);
      await informer.stop();
      controller?.abort();
      while (inflight.size > 0) await Promise.allSettled([...inflight]);
      await informer.stop();
    },
  };
}

/** One line: `HTTP 404: the server could not find the requested resource`. */
function describe(err: unknown): string {
  if (err instanceof ApiException) {
    const body: unknown = err.body;
    let message: unknown = body;
    if (typeof body === 'string') {
      try {
        message = (JSON.parse(body) as { message?: unknown }).message ?? body;
      } catch {
        message = body;
      }
    } else if (typeof body === 'object' && body !== null) {
      message = (body as { message?: unknown }).message ?? JSON.stringify(body);
    }
    return `HTTP ${err.code}: ${String(message)}`;
  }
  if (typeof err === 'object' && err !== null) {
    const code = (err as { statusCode?: unknown }).statusCode;
    const message = err instanceof Error ? err.message : JSON.stringify(err);
    return typeof code === 'number' ? `HTTP ${code}: ${message}` : message;
  }
  return String(err);
}
