// Wiring: informers (Services; VipPools), the Lease elector, the allocator loop, Events and
// the health/metrics server. Everything here is glue; the decisions are in allocate.ts.
// The leader also records each Service's valid balanced annotations after every pass
// (LastAcceptedRecorder, @balanced/k8s last-good.ts): the directors' last good state; and keeps
// the VipPools' recorded cidrs and finalizer current (PoolUpkeepWriter): the ranges every
// director and announcer keeps while a pool is invalid or being deleted.
// /readyz = the cache's readiness (synced; no kind refused past its grace) AND the loop's
// (passes succeed); /healthz = the loop makes progress (health.ts in @balanced/k8s).

import type { KubeConfig, V1Service } from '@kubernetes/client-node';
import { EventRecorder, LastAcceptedRecorder, LeaderElector, createClusterCache, loadKubeConfig, startHealthServer, type HealthServer } from '@balanced/k8s';
import type { Logger } from 'pino';

import { Allocator } from './allocator.js';
import { AllocatorMetrics } from './metrics.js';
import { OncePerAppearance } from './once-per-appearance.js';
import type { InvalidPool } from './pool-catalog.js';
import { PoolCatalog } from './pool-catalog.js';
import { PoolUpkeepWriter } from './pool-upkeep-writer.js';
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
  /** How long a watched kind may keep failing before /readyz turns false (default: the cache's DEFAULT_ERROR_GRACE_MS); tests shorten it. */
  readonly errorGraceMs?: { readonly refused: number; readonly other: number };
  /** How long passes may keep failing before /readyz turns false (default: PassLoop's); tests shorten it. */
  readonly failureGraceMs?: number;
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
  const cache = createClusterCache(kc, {
    kinds: ['services', 'vippools'],
    ...restart,
    log: log.child({ part: 'cluster-cache' }),
    ...(config.errorGraceMs !== undefined ? { errorGraceMs: { ...config.errorGraceMs } } : {}),
  });
  const lastAccepted = new LastAcceptedRecorder(kc, { defaultClass: config.defaultClass });
  const poolUpkeep = new PoolUpkeepWriter(kc);
  const deletionWaits = new OncePerAppearance<{ name: string; heldBy: readonly string[] }>((p) => `${p.name}|${p.heldBy.join(',')}`);
  const catalog = new PoolCatalog();
  const invalidReports = new OncePerAppearance<InvalidPool>((p) => `${p.uid ?? p.name}|${describeProblems(p.problems)}`);
  let pools: readonly VipPool[] = [];
  let invalid: readonly InvalidPool[] = [];
  let leading = false;

  const synced = (): boolean => cache.synced();
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
      for (const w of r.refused) log.warn({ service: w.change.key, code: w.code }, `status write refused: ${w.message}`);
      if (r.conflicts > 0) log.debug({ conflicts: r.conflicts }, 'status changed under us; planning again');
      if (r.abandoned) log.warn('lost leadership during a pass; remaining writes dropped');
    },
    onError: (e) => log.error({ err: e.message }, 'pass failed; retrying'),
    afterLeaderPass: async (services) => {
      const recorded = await lastAccepted.record(services);
      for (const key of recorded.written) log.info({ service: key }, 'recorded its balanced annotations as the last accepted');
      for (const f of recorded.failed) log.warn({ service: f.service, err: f.message }, 'could not record the last accepted annotations (is `patch` on services granted?); the directors keep the previous copy');
      const upkeep = await poolUpkeep.apply(cache.vipPools(), services);
      for (const p of upkeep.written) log.info({ pool: p.name, recorded: p.recorded, finalizer: p.finalizer }, p.finalizer === 'removed' ? 'no Service holds an address from the VipPool being deleted: finalizer removed' : 'VipPool upkeep written');
      for (const f of upkeep.failed) log.warn({ pool: f.pool, err: f.message }, 'could not update the VipPool (is `patch` on vippools granted?); its recorded cidrs or finalizer are not current');
      metrics.setPoolsDeletionWaiting(upkeep.waiting.length);
      for (const p of deletionWaits.fresh(upkeep.waiting)) {
        const message = `being deleted, kept while Services hold addresses from it (they keep them; the directors keep serving them): ${p.heldBy.join(', ')}. It goes once none does (give them balanced.dev/ip-pool or ip-request elsewhere, or delete them)`;
        log.warn({ pool: p.name, heldBy: p.heldBy }, message);
        void events.record({ kind: VIPPOOL_KIND, apiVersion: VIPPOOL_API_VERSION, name: p.name }, 'Warning', 'VipPoolInUse', message);
      }
    },
    ...(config.failureGraceMs !== undefined ? { failureGraceMs: config.failureGraceMs } : {}),
  });

  function reportInvalidPools(): void {
    if (!leading) return;
    for (const p of invalidReports.fresh(invalid)) {
      const message = `${describeProblems(p.problems)}${p.keptLastValid ? ' (its last valid version is still used)' : ' (the pool is not used: it hands out no address, and addresses Services already hold from it are kept)'}`;
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
      deletionWaits.reset();
      allocator.leadershipStopped();
    },
    onNewLeader: (holder) => log.info({ leader: holder === '' ? null : holder }, 'leader observed'),
    onError: (e) => log.debug({ err: e.message }, 'lease attempt failed'),
  });

  cache.onChange((kind, change) => {
    if (kind === 'services') allocator.observeService(change?.object as V1Service | undefined);
  });
  cache.onChange((kind) => {
    if (kind !== 'vippools') return;
    const snapshot = catalog.update(cache.vipPools());
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
    checks: [cache, allocator],
    ready: () => {
      const poolError = cache.lastError('vippools')?.message;
      return {
        ok: synced(),
        detail:
          `services listed: ${cache.synced('services')}, VipPools listed: ${cache.synced('vippools')}` +
          (poolError !== undefined && !cache.synced('vippools') ? ` (${poolError}; is deploy/vippool-crd.yaml applied?)` : '') +
          `, leader: ${elector.leader() ?? 'unknown'}`,
      };
    },
  });
  allocator.start();
  elector.start();
  cache.start().catch(() => undefined);
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
      await cache.stop();
      await health.close();
      log.info('stopped');
    },
  };
}
