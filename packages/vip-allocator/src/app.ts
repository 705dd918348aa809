// Wiring: informers (Services; VipPools), the Lease elector, the allocator loop, Events and
// the health/metrics server. Everything here is glue; the decisions are in allocate.ts.

import type { KubeConfig, V1Service } from '@kubernetes/client-node';
import { EventRecorder, LeaderElector, createClusterCache, loadKubeConfig, startHealthServer, type HealthServer } from '@balanced/k8s';
import type { Logger } from 'pino';

import { Allocator } from './allocator.js';
import { AllocatorMetrics } from './metrics.js';
import { OncePerAppearance } from './once-per-appearance.js';
import type { InvalidPool } from './pool-catalog.js';
import { PoolCatalog } from './pool-catalog.js';
import { watchVipPools } from '@balanced/k8s';
import type { VipPool } from './pool.js';
import { VIPPOOL_API_VERSION, VIPPOOL_KIND, describeProblems } from './pool.js';
import { serviceStatusApi } from './status-api.js';

export const COMPONENT = 'balanced-vip-allocator';

export interface AllocatorConfig {
  readonly kubeconfig?: string;
  /** Use this KubeConfig instead of loading one (embedding, tests). */
  readonly kubeConfig?: KubeConfig;
  /** Namespace of the Lease (the allocator's own namespace). */
  readonly leaseNamespace: string;
  readonly leaseName: string;
  /** This replica's identity in the Lease and in its Events (pod name). */
  readonly identity: string;
  readonly defaultClass: boolean;
  readonly metricsHost: string;
  /** 0 = any free port (see RunningAllocator.health.url). */
  readonly metricsPort: number;
  readonly resyncSeconds: number;
  /** Whole seconds (the Lease field is an integer). */
  readonly leaseDurationSeconds: number;
  readonly renewDeadlineSeconds: number;
  readonly retryPeriodSeconds: number;
  /** Informer restart backoff (default 1 → 30 s); tests shorten it. */
  readonly restartDelayMs?: { readonly min: number; readonly max: number };
}

export interface RunningAllocator {
  readonly allocator: Allocator;
  readonly elector: LeaderElector;
  readonly metrics: AllocatorMetrics;
  readonly health: HealthServer;
  /** Listed Services and VipPools at least once. */
  synced(): boolean;
  /** Graceful: finish the pass in progress, stop writing, release the Lease, stop watching. */
  stop(): Promise<void>;
}

export async function startAllocator(config: AllocatorConfig, log: Logger): Promise<RunningAllocator> {
  const kc = config.kubeConfig ?? loadKubeConfig(config.kubeconfig !== undefined ? { kubeconfig: config.kubeconfig } : {});
  const metrics = new AllocatorMetrics();
  const events = new EventRecorder(kc, { component: COMPONENT, host: config.identity });
  const restart = config.restartDelayMs !== undefined ? { restartDelayMs: { ...config.restartDelayMs } } : {};
  const cache = createClusterCache(kc, { kinds: ['services'], ...restart });
  const poolWatch = watchVipPools(kc, restart);
  const catalog = new PoolCatalog();
  const invalidReports = new OncePerAppearance<InvalidPool>((p) => `${p.uid ?? p.name}|${describeProblems(p.problems)}`);
  let pools: readonly VipPool[] = [];
  let invalid: readonly InvalidPool[] = [];
  let leading = false;

  const synced = (): boolean => cache.synced() && poolWatch.synced();
  const allocator = new Allocator({
    services: () => cache.services(),
    pools: () => pools,
    synced,
    api: serviceStatusApi(kc),
    defaultClass: config.defaultClass,
    isLeader: () => elector.isLeader(),
    events,
    metrics,
    resyncMs: config.resyncSeconds * 1000,
    onPass: (r) => {
      for (const f of r.newFailures) log.warn({ service: f.key, reason: f.reason }, f.message);
      for (const c of r.written) {
        log.info({ service: c.key, ips: c.ips, assigned: c.assigned, released: c.released }, c.assigned ? 'assigned' : 'status updated');
      }
      if (r.conflicts > 0) log.debug({ conflicts: r.conflicts }, 'status changed under us; planning again');
      if (r.abandoned) log.warn('lost leadership during a pass; remaining writes dropped');
    },
    onError: (e) => log.error({ err: e.message }, 'pass failed; retrying'),
  });

  function reportInvalidPools(): void {
    if (!leading) return;
    for (const p of invalidReports.fresh(invalid)) {
      const message = `${describeProblems(p.problems)}${p.keptLastValid ? ' (its last valid version is still used)' : ' (the pool is not used)'}`;
      log.warn({ pool: p.name }, message);
      void events.record({ kind: VIPPOOL_KIND, apiVersion: VIPPOOL_API_VERSION, name: p.name, ...(p.uid !== undefined ? { uid: p.uid } : {}) }, 'Warning', 'InvalidVipPool', message);
    }
  }

  const elector = new LeaderElector(kc, {
    namespace: config.leaseNamespace,
    name: config.leaseName,
    identity: config.identity,
    leaseDurationSeconds: config.leaseDurationSeconds,
    renewDeadlineMs: config.renewDeadlineSeconds * 1000,
    retryPeriodMs: config.retryPeriodSeconds * 1000,
    onStartedLeading: () => {
      log.info({ lease: `${config.leaseNamespace}/${config.leaseName}` }, 'leading: this replica writes');
      leading = true;
      invalidReports.reset();
      reportInvalidPools();
      allocator.leadershipStarted();
    },
    onStoppedLeading: () => {
      log.warn('stopped leading: this replica only plans');
      leading = false;
      allocator.leadershipStopped();
    },
    onNewLeader: (holder) => log.info({ leader: holder === '' ? null : holder }, 'leader observed'),
    onError: (e) => log.debug({ err: e.message }, 'lease attempt failed'),
  });

  cache.onChange((kind, change) => {
    if (kind === 'services') allocator.observeService(change?.object as V1Service | undefined);
  });
  poolWatch.onChange(() => {
    const snapshot = catalog.update(poolWatch.objects());
    pools = snapshot.pools;
    invalid = snapshot.invalid;
    metrics.setInvalidPools(invalid.length);
    reportInvalidPools();
    allocator.markDirty();
  });

  const health = await startHealthServer({
    port: config.metricsPort,
    host: config.metricsHost,
    registry: metrics.registry,
    ready: () => {
      const poolError = poolWatch.lastError();
      return {
        ok: synced(),
        detail:
          `services listed: ${cache.synced()}, VipPools listed: ${poolWatch.synced()}` +
          (poolError !== undefined && !poolWatch.synced() ? ` (${poolError}; is deploy/vippool-crd.yaml applied?)` : '') +
          `, leader: ${elector.leader() ?? 'unknown'}`,
      };
    },
  });
  allocator.start();
  elector.start();
  cache.start().catch(() => undefined);
  poolWatch.start().catch(() => undefined);
  log.info({ identity: config.identity, metrics: health.url }, 'running');

  return {
    allocator,
    elector,
    metrics,
    health,
    synced,
    async stop() {
      await allocator.stop();
      await elector.stop();
      await Promise.all([cache.stop(), poolWatch.stop()]);
      await health.close();
      log.info('stopped');
    },
  };
}
