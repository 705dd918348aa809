import { WATCHED_KINDS, createClusterCache, loadKubeConfig, type CacheLog, type ClusterCache } from '@balanced/k8s';
import type { ClusterObjects } from './cluster-objects.js';
import { CliError, messageOf } from './errors.js';

export interface ClusterReadOptions {
  readonly kubeconfig: string;
  /** Give up after this long on a cluster that does not answer. */
  readonly timeoutMs: number;
  /** VipPools could not be listed (e.g. the CRD is not installed): the read goes on without them. */
  readonly warn: (message: string) => void;
}

/** Failures are reported once, at the end, from readiness(); nothing is logged meanwhile. */
const QUIET: CacheLog = { warn: () => undefined, info: () => undefined };
const RESTART = { min: 200, max: 2000 };

/**
 * One read of the cluster through the cache the controllers use (@balanced/k8s
 * createClusterCache): list, take the objects, stop. VipPools come from a second cache, so
 * a cluster without the VipPool CRD is still read (without pools, and a warning).
 */
export async function readCluster(options: ClusterReadOptions): Promise<ClusterObjects> {
  let kc;
  try {
    kc = loadKubeConfig({ kubeconfig: options.kubeconfig });
  } catch (e) {
    throw new CliError(`kubeconfig ${options.kubeconfig}: ${messageOf(e)}`);
  }
  const server = kc.getCurrentCluster()?.server ?? '?';
  const core = createClusterCache(kc, { kinds: WATCHED_KINDS, relistIntervalMs: 0, restartDelayMs: RESTART, log: QUIET });
  const pools = createClusterCache(kc, { kinds: ['vippools'], relistIntervalMs: 0, restartDelayMs: RESTART, log: QUIET });
  const deadline = Date.now() + options.timeoutMs;
  try {
    const [coreSynced, poolsSynced] = await Promise.all([syncedBy(core, deadline), syncedBy(pools, deadline)]);
    if (!coreSynced) throw new CliError(`cluster at ${server} did not answer within ${options.timeoutMs} ms: ${core.readiness().detail ?? "not listed"}`);
    if (!poolsSynced) options.warn(`VipPools not read (${pools.readiness().detail ?? "not listed"}); going on without them`);
    return {
      services: [...core.services()],
      endpointSlices: [...core.endpointSlices()],
      pods: [...core.pods()],
      nodes: [...core.nodes()],
      vipPools: poolsSynced ? [...pools.vipPools()] : [],
    };
  } finally {
    await Promise.all([core.stop(), pools.stop()]);
  }
}

/** Starts the cache; true once it has listed everything, false at the deadline. */
async function syncedBy(cache: ClusterCache, deadline: number): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const started = cache.start().then(
    () => true,
    () => false,
  );
  const late = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), Math.max(0, deadline - Date.now()));
  });
  try {
    return await Promise.race([started, late]);
  } finally {
    if (timer !== undefined) clearTimeout(timer);
  }
}
