// A watch-backed list of VipPool objects (cluster-scoped custom resources), for their BGP
// communities and address ranges. @balanced/k8s's cluster cache serves built-in kinds only, so
// this is client-node's ListWatch kept alive the same way: a failed list or watch (refused,
// 404 before the CRD exists, …) starts again after a doubling delay (capped), and every
// relistIntervalMs the open watch is ended as a 410 would end it, so the informer relists and
// repairs a silently dead connection. Nothing reopens after stop().
import { CustomObjectsApi, ListWatch, Watch } from '@kubernetes/client-node';
import type { KubeConfig, KubernetesListObject, KubernetesObject } from '@kubernetes/client-node';
import { VIPPOOL_GROUP, VIPPOOL_PLURAL, VIPPOOL_VERSION } from './vip-pools.js';

export const VIPPOOL_PATH = `/apis/${VIPPOOL_GROUP}/${VIPPOOL_VERSION}/${VIPPOOL_PLURAL}`;

export interface PoolWatchOptions {
  /** Default 1000 → 30 000 ms. */
  readonly restartDelayMs?: { readonly min: number; readonly max: number };
  /** Default 10 min; 0 = never. */
  readonly relistIntervalMs?: number;
}

export interface PoolWatch {
  objects(): readonly unknown[];
  /** After every change and every (re)list. */
  onChange(listener: () => void): void;
  synced(): boolean;
  /** The last failure since the last successful list or watch. */
  lastError(): string | undefined;
  start(): void;
  stop(): Promise<void>;
}

export function watchVipPools(kc: KubeConfig, options: PoolWatchOptions = {}): PoolWatch {
  const api = kc.makeApiClient(CustomObjectsApi);
  const delays = options.restartDelayMs ?? { min: 1000, max: 30_000 };
  const relistIntervalMs = options.relistIntervalMs ?? 10 * 60_000;
  const listeners: (() => void)[] = [];
  const inflight = new Set<Promise<unknown>>();
  let stopped = false;
  let started = false;
  let listed = false;
  let listApplied = false;
  let failures = 0;
  let error: string | undefined;
  let restartTimer: NodeJS.Timeout | undefined;
  let relistTimer: NodeJS.Timeout | undefined;
  let endWatch: (() => void) | undefined;

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
      query: Record<string, string | number | boolean | undefined>,
      callback: (phase: string, apiObj: unknown, watchObj?: unknown) => void,
      done: (err: unknown) => void,
    ): Promise<AbortController> {
      return track(this.open(path, query, callback, done));
    }

    private async open(
      path: string,
      query: Record<string, string | number | boolean | undefined>,
      callback: (phase: string, apiObj: unknown, watchObj?: unknown) => void,
      done: (err: unknown) => void,
    ): Promise<AbortController> {
      if (listApplied) {
        // ListWatch opens the watch right after applying a list: the cache holds it now.
        listApplied = false;
        listed = true;
        error = undefined;
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
      let controller: AbortController;
      try {
        controller = await super.watch(path, query, (phase, obj, raw) => (finished ? undefined : callback(phase, obj, raw)), finish);
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
          if (stopped) throw new Error('pool watch stopped');
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
    restartTimer = setTimeout(() => {
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
    relistTimer = setTimeout(() => {
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
      if (started || stopped) return;
      started = true;
      run();
      scheduleRelist();
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      clearTimeout(restartTimer);
      clearTimeout(relistTimer);
      await informer.stop();
      while (inflight.size > 0) await Promise.allSettled([...inflight]);
      await informer.stop();
    },
  };
}

function describe(err: unknown): string {
  if (typeof err === 'object' && err !== null) {
    const code = (err as { code?: unknown }).code ?? (err as { statusCode?: unknown }).statusCode;
    const message = err instanceof Error ? err.message : JSON.stringify(err);
    return typeof code === 'number' ? `HTTP ${code}: ${message}` : message;
  }
  return String(err);
}
