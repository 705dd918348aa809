// Wiring: informers (Services, EndpointSlices, VipPools) + the controller health gate → the
// pure planner and renderer → the BIRD applier, in the Announcer loop; /healthz /readyz
// /metrics beside it. The VIP ranges are the VipPools' (VipRangeWatch of @balanced/k8s) plus
// the config's optional `cidrs`.
import type { KubeConfig } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { createClusterCache, loadKubeConfig, startHealthServer, VipRangeWatch, type HealthServer } from '@balanced/k8s';
import { planAnnouncements, type AnnouncementPlan, type LastGood } from './announcements.js';
import { Announcer, type RenderedState } from './announcer.js';
import { BirdConfigApplier, BirdConfigRejectedError, BirdNotIncludingError, type ApplyResult } from './bird-applier.js';
import { BirdClient } from './bird-client.js';
import { cidrOwnership } from '@balanced/net';
import type { AnnouncerConfig } from './config.js';
import { HealthGate, type ControllerProbe } from './health-gate.js';
import { httpReadyProbe } from './http-probe.js';
import { AnnouncerMetrics } from './metrics.js';
import { DEFAULT_METRICS_HOST, checkMetricsHost } from '@balanced/k8s';
import { PEER_PREFIX, STATIC_PROTOCOL, peerProtocolName, renderBirdConfig, renderedFamilies } from './render.js';
import { describeReadiness } from './readiness.js';
import { announcerTransforms } from './serving-view.js';
import { readVipPools } from './vip-pools.js';

export const DEFAULT_CONTROLLER_READY_URL = 'http://127.0.0.1:9742/readyz';
export const DEFAULT_METRICS_PORT = 9743;

export interface AnnouncerRunOptions {
  readonly config: AnnouncerConfig;
  /** A kubeconfig file; else $KUBECONFIG, in-cluster, ~/.kube/config. */
  readonly kubeconfig?: string;
  /** Use this KubeConfig instead of loading one (tests). */
  readonly kubeConfig?: KubeConfig;
  /** Also take LoadBalancer Services with no loadBalancerClass (must match the ipvs-controller). */
  readonly defaultClass: boolean;
  /** The ipvs-controller's /readyz. */
  readonly controllerReadyUrl?: string;
  /** Replaces the HTTP probe of controllerReadyUrl. */
  readonly controllerProbe?: ControllerProbe;
  readonly probeIntervalMs?: number;
  readonly probeTimeoutMs?: number;
  readonly failureThreshold?: number;
  readonly resyncSeconds?: number;
  /** Watch VipPools: the VIP ranges (with the config's `cidrs`) and their communities (default true). */
  readonly watchPools?: boolean;
  readonly birdTimeoutMs?: number;
  /** undefined: no health server. 0: a free port. */
  readonly metricsPort?: number;
  /** Default loopback; never a wildcard or a VIP (checkMetricsHost: start-up fails with MetricsHostError). */
  readonly metricsHost?: string;
  /** How long a watched kind may keep failing before /readyz turns false (default: the cluster cache's DEFAULT_ERROR_GRACE_MS); tests shorten it. */
  readonly errorGraceMs?: { readonly refused: number; readonly other: number };
  /** How long passes may keep failing before /readyz turns false (default: PassLoop's). */
  readonly failureGraceMs?: number;
  /** /healthz fails once one pass has run this long (default: PassLoop's stallMs). */
  readonly stallMs?: number;
}

export interface RunningAnnouncer {
  readonly announcer: Announcer;
  readonly gate: HealthGate;
  readonly metrics: AnnouncerMetrics;
  readonly bird: BirdClient;
  readonly health: HealthServer | undefined;
  /** The plan of the last pass. */
  plan(): AnnouncementPlan | undefined;
  /** SIGTERM: withdraw every VIP, reload BIRD, stop everything. Rejects if BIRD did not take the withdrawal. */
  shutdown(): Promise<ApplyResult>;
  /** Stop everything, leaving BIRD as it is. */
  stop(): Promise<void>;
}

export async function startAnnouncer(options: AnnouncerRunOptions, log: Logger): Promise<RunningAnnouncer> {
  const { config } = options;
  const kc = options.kubeConfig ?? loadKubeConfig(options.kubeconfig !== undefined ? { kubeconfig: options.kubeconfig } : {});
  // Refused before anything starts: a health server on a VIP would be reachable by any client
  // (checked against the config's cidrs now, against the pools' ranges as they come).
  const metricsHost = options.metricsPort === undefined ? undefined : checkMetricsHost(options.metricsHost ?? DEFAULT_METRICS_HOST, cidrOwnership(config.cidrs));
  const metrics = new AnnouncerMetrics();
  const bird = new BirdClient({ socketPath: config.birdSocket, timeoutMs: options.birdTimeoutMs ?? 10_000, onSpontaneous: (text) => log.info({ bird: text }, 'BIRD says') });
  // The static protocols BIRD must run once it reads the file: one per neighbor family (and per family of the config's cidrs).
  const families = [...renderedFamilies(config)];
  const applier = new BirdConfigApplier({
    bird,
    outputFile: config.outputFile,
    ...(config.birdConfig === undefined ? {} : { mainConfig: config.birdConfig }),
    expectProtocols: families.map((f) => STATIC_PROTOCOL[f]),
  });
  metrics.readSessionsOnScrape(async () =>
    (await bird.protocols())
      .filter((p) => p.protocol === 'BGP' && p.name.startsWith(PEER_PREFIX))
      .map((p) => ({ neighbor: p.name.slice(PEER_PREFIX.length), up: p.state === 'up' })),
  );
  const peers = config.neighbors.map((n) => peerProtocolName(n));

  // The announcer reads Services and slices only through buildServiceDesired: keep just those
  // fields, and see each endpoint as serving or not (a draining endpoint keeps its VIP announced).
  const watchPools = options.watchPools ?? true;
  const cache = createClusterCache(kc, {
    kinds: ['services', 'endpointslices', ...(watchPools ? (['vippools'] as const) : [])],
    transform: announcerTransforms,
    log: log.child({ part: 'cluster-cache' }),
    ...(options.errorGraceMs !== undefined ? { errorGraceMs: { ...options.errorGraceMs } } : {}),
  });
  // The VIP ranges: every VIP announced lies inside them, and the export filter lets nothing else out.
  const vipRanges = new VipRangeWatch(cache, {
    extra: config.cidrs,
    pools: watchPools,
    log: log.child({ part: 'vip-ranges' }),
    onChange: (set) => {
      log.info({ vipRanges: set.cidrs.map((c) => c.text), vipPools: set.pools }, 'VIP ranges changed');
      if (metricsHost !== undefined && vipRanges.owns(metricsHost)) log.error({ metricsHost }, '--metrics-host lies inside the VIP ranges (a VipPool): the health server answers on a VIP; give loopback or the node\'s own address');
    },
  });
  if (!watchPools && config.cidrs.length === 0) log.warn('no VIP range: VipPools are not watched (--no-vip-pools) and the config lists no cidrs; nothing will be announced');
  const ownsVip = vipRanges.owns;
  /** The config with the VIP ranges as they are now (the renderer's `cidrs`). */
  const withRanges = (): AnnouncerConfig => ({ ...config, cidrs: vipRanges.current.cidrs });

  let lastGood: LastGood = new Map();
  let lastPlan: AnnouncementPlan | undefined;
  let lastProblems = '';
  // The gate tells the announcer when health flips; the announcer's render reads the gate.
  let markDirty = (): void => undefined;
  const gate = new HealthGate({
    probe: options.controllerProbe ?? httpReadyProbe(options.controllerReadyUrl ?? DEFAULT_CONTROLLER_READY_URL),
    intervalMs: options.probeIntervalMs ?? 1000,
    timeoutMs: options.probeTimeoutMs ?? 1000,
    failureThreshold: options.failureThreshold ?? 3,
    onProbe: (ok) => metrics.recordProbe(ok),
    onChange: (healthy, detail) => {
      metrics.recordController(healthy);
      log[healthy ? 'info' : 'warn']({ detail }, healthy ? 'ipvs-controller ready: announcing' : 'ipvs-controller not ready: withdrawing every VIP');
      markDirty();
    },
  });
  metrics.recordController(false);

  const render = (): RenderedState | undefined => {
    const synced = cache.synced();
    if (!synced) {
      // Cannot tell which VIPs are ready yet; but a controller known to be down means none.
      if (!gate.failing) return undefined;
      const plan: AnnouncementPlan = { announced: [], withheld: [], problems: [] };
      return { content: renderBirdConfig(withRanges(), []), plan, problems: [] };
    }
    const poolView = readVipPools(cache.vipPools());
    const result = planAnnouncements({
      services: cache.services(),
      endpointSlices: cache.endpointSlices(),
      pools: poolView.pools,
      ownsVip,
      defaultClass: options.defaultClass,
      controllerHealthy: gate.healthy,
      lastGood,
    });
    lastGood = result.lastGood;
    return { content: renderBirdConfig(withRanges(), result.plan.announced), plan: result.plan, problems: [...poolView.problems, ...result.plan.problems] };
  };

  const announcer = new Announcer({
    render,
    renderWithdrawn: () => renderBirdConfig(withRanges(), []),
    apply: async (content, how) => {
      try {
        const result = await applier.apply(content, how);
        metrics.recordReload(result.changed ? 'ok' : 'unchanged', result.changed ? result.durationMs : undefined);
        return result;
      } catch (e) {
        metrics.recordReload(e instanceof BirdConfigRejectedError ? 'rejected' : e instanceof BirdNotIncludingError ? 'not_included' : 'error');
        throw e;
      }
    },
    resyncMs: (options.resyncSeconds ?? 60) * 1000,
    onPass: ({ rendered, result }) => {
      const before = lastPlan;
      lastPlan = rendered.plan;
      metrics.recordPlan(rendered.plan, rendered.problems.length);
      const problems = rendered.problems.join('\n');
      if (problems !== lastProblems) for (const p of rendered.problems) log.warn(p);
      lastProblems = problems;
      if (result.changed) {
        log.info(
          {
            announced: rendered.plan.announced.map((a) => a.vip),
            withheld: rendered.plan.withheld.map((w) => `${w.vip} (${w.reason})`),
            bird: result.outcome,
            ms: result.durationMs,
          },
          before === undefined ? 'BIRD configured' : 'BIRD reconfigured',
        );
      }
    },
    onError: (e) => log.error({ err: e.message }, 'announcing failed; will retry'),
    ...(options.failureGraceMs !== undefined ? { failureGraceMs: options.failureGraceMs } : {}),
    ...(options.stallMs !== undefined ? { stallMs: options.stallMs } : {}),
  });

  markDirty = () => announcer.markDirty();
  cache.onChange(() => announcer.markDirty());

  let health: HealthServer | undefined;
  if (options.metricsPort !== undefined) {
    health = await startHealthServer({
      port: options.metricsPort,
      host: metricsHost ?? DEFAULT_METRICS_HOST,
      registry: metrics.registry,
      // ANDed with the cache's readiness (synced; no kind refused past its grace) and the loop's
      // (passes succeed); /healthz = the loop makes progress (health.ts of @balanced/k8s).
      checks: [cache, announcer, { metrics: () => vipRanges.metrics() }],
      ready: () =>
        describeReadiness({
          synced: cache.synced(),
          poolsError: cache.lastError('vippools')?.message,
          controllerHealthy: gate.healthy,
          controllerDetail: gate.detail,
          plan: lastPlan,
          birdCurrent: announcer.ready,
          birdError: announcer.lastError,
          outputFile: config.outputFile,
          sessions: peers,
        }),
    });
  }

  gate.start();
  announcer.start();
  cache.start().catch(() => undefined);
  log.info({ cidrs: config.cidrs.map((c) => c.text), vipPools: watchPools, outputFile: config.outputFile, birdSocket: config.birdSocket, neighbors: config.neighbors.map((n) => n.name), metrics: health?.url }, 'vip-announcer running');

  const stopWatching = async (): Promise<void> => {
    await gate.stop();
    await cache.stop();
  };
  return {
    announcer,
    gate: gate,
    metrics,
    bird,
    health,
    plan: () => lastPlan,
    async shutdown() {
      // Withdraw first: stopping the informers may wait for requests in flight.
      try {
        const result = await announcer.shutdown();
        log.info('every VIP withdrawn; BIRD reloaded');
        return result;
      } finally {
        await stopWatching();
        bird.close();
        await health?.close();
      }
    },
    async stop() {
      await stopWatching();
      await announcer.stop();
      bird.close();
      await health?.close();
    },
  };
}
