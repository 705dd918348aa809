import { WATCHED_KINDS, createClusterCache, loadKubeConfig, type CacheLog, type ClusterCache, type WatchedKind } from '@balanced/k8s';
import type { ClusterObjects } from './cluster-objects.js';
import { CliError, messageOf } from './errors.js';

export interface ClusterReadOptions {
  readonly kubeconfig: string;
  /** Give up after this long on a cluster that does not answer. */
  readonly timeoutMs: number;
  /** A custom resource kind could not be listed (e.g. its CRD is not installed): the read goes on without it. */
  readonly warn: (message: string) => void;
}

/** Failures are reported once, at the end, from readiness(); nothing is logged meanwhile. */
const QUIET: CacheLog = { warn: () => undefined, info: () => undefined };
const RESTART = { min: 200, max: 2000 };
/** How often an optional kind's list is checked for a 404 (its CRD is not installed: no point waiting). */
const ABSENT_POLL_MS = 100;

/** The custom resources read, each from a cache of its own (its CRD is optional), with the name a warning uses. */
const OPTIONAL: readonly (readonly [WatchedKind, string])[] = [
  ['vippools', 'VipPools'],
  ['localredirectpolicies', 'LocalRedirectPolicies'],
  ['balancingpolicies', 'BalancingPolicies'],
];

/**
 * One read of the cluster through the cache the controllers use (@balanced/k8s
 * createClusterCache): list, take the objects, stop. VipPools, LocalRedirectPolicies and
 * BalancingPolicies come from a cache each (their CRDs are optional), so a cluster without
 * one of them is still read: without those objects, and a warning. A kind whose list answers
 * 404 (CRD not installed) is given up at once, not at the deadline.
 */
export async function readCluster(options: ClusterReadOptions): Promise<ClusterObjects> {
  let kc;
  try {
    kc = loadKubeConfig({ kubeconfig: options.kubeconfig });
  } catch (e) {
    throw new CliError(`kubeconfig ${options.kubeconfig}: ${messageOf(e)}`);
  }
  const server = kc.getCurrentCluster()?.server ?? '?';
  const cache = (kinds: readonly WatchedKind[]): ClusterCache => createClusterCache(kc, { kinds, relistIntervalMs: 0, restartDelayMs: RESTART, log: QUIET });
  const core = cache(WATCHED_KINDS);
  const optional = OPTIONAL.map(([kind, label]) => ({ kind, label, cache: cache([kind]) }));
  const deadline = Date.now() + options.timeoutMs;
  try {
    const [coreSynced, ...optionalSynced] = await Promise.all([syncedBy(core, deadline), ...optional.map((o) => syncedBy(o.cache, deadline, o.kind))]);
    if (!coreSynced) throw new CliError(`cluster at ${server} did not answer within ${options.timeoutMs} ms: ${core.readiness().detail ?? 'not listed'}`);
    const read = new Map<WatchedKind, ClusterCache>();
    optional.forEach((o, i) => {
      if (optionalSynced[i] === true) read.set(o.kind, o.cache);
      else options.warn(`${o.label} not read (${o.cache.readiness().detail ?? 'not listed'}); going on without them`);
    });
    return {
      services: [...core.services()],
      endpointSlices: [...core.endpointSlices()],
      pods: [...core.pods()],
      nodes: [...core.nodes()],
      vipPools: [...(read.get('vippools')?.vipPools() ?? [])],
      localRedirectPolicies: [...(read.get('localredirectpolicies')?.localRedirectPolicies() ?? [])],
      balancingPolicies: [...(read.get('balancingpolicies')?.balancingPolicies() ?? [])],
    };
  } finally {
    await Promise.all([core.stop(), ...optional.map((o) => o.cache.stop())]);
  }
}

/**
 * Starts the cache; true once it has listed everything, false at the deadline or, for an
 * `optional` kind, as soon as its list answers 404 (a custom resource whose CRD is not installed).
 */
async function syncedBy(cache: ClusterCache, deadline: number, optional?: WatchedKind): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  let poll: ReturnType<typeof setInterval> | undefined;
  const started = cache.start().then(
    () => true,
    () => false,
  );
  const late = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), Math.max(0, deadline - Date.now()));
    if (optional !== undefined) {
      poll = setInterval(() => {
        if (cache.lastError(optional)?.code === '404') resolve(false);
      }, ABSENT_POLL_MS);
    }
  });
  try {
    return await Promise.race([started, late]);
  } finally {
    if (timer !== undefined) clearTimeout(timer);
    if (poll !== undefined) clearInterval(poll);
  }
}
