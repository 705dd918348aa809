import type { Logger } from 'pino';
import { createClusterCache, EventRecorder, loadKubeConfig, startHealthServer, VipRangeWatch, type HealthServer, type WatchedKind } from '@balanced/k8s';
import { cidrOwnership, parseCidr } from '@balanced/net';
import { EndpointController } from './controller.js';
import { desiredPods } from './desired.js';
import { PodEventReporter } from './event-reporter.js';
import { nsenterIptables, type NamespaceIptables } from './iptables.js';
import { EndpointMetrics } from './metrics.js';
import type { PodNetnsResolver } from './netns/resolver.js';
import { checkMetricsHost } from '@balanced/k8s';
import { TunnelProgrammer } from './programmer.js';
import { chooseResolver } from './resolvers.js';
import { describeTunnelOps } from './tunnel-plan.js';

export interface EndpointControllerConfig {
  readonly kubeconfig?: string;
  /** This node (spec.nodeName of the pods to manage). */
  readonly nodeName: string;
  /** Extra VIP CIDRs owned (--vip-cidr), on top of the VipPools' ranges; nothing outside the VIP ranges is touched. */
  readonly vipCidrs: readonly string[];
  /**
   * Read the VIP ranges from the VipPools (balanced.dev/v1alpha1; the cache then waits for
   * their CRD). The binary's default (--no-vip-pools turns it off); default here false, so a
   * caller that gives vipCidrs (tests, the lab) needs no VipPool CRD.
   */
  readonly vipPools?: boolean;
  readonly defaultClass: boolean;
  /** Candidate CRI sockets, first existing wins; empty: no CRI. */
  readonly criSockets: readonly string[];
  readonly procScan: boolean;
  /** The host's /proc (hostPID, or the host's /proc mounted elsewhere). */
  readonly procRoot: string;
  readonly resyncSeconds: number;
  readonly metricsHost: string;
  readonly metricsPort: number;
  /** Replaces the CRI / /proc resolvers (lab, tests). */
  readonly resolver?: PodNetnsResolver;
  readonly iptables?: NamespaceIptables;
  /** The node's namespace (refused as a pod's). Default <procRoot>/1/ns/net. */
  readonly hostNetns?: string;
  readonly concurrency?: number;
  /** How long a watched kind may keep failing before /readyz turns false (default: the cluster cache's DEFAULT_ERROR_GRACE_MS); tests shorten it. */
  readonly errorGraceMs?: { readonly refused: number; readonly other: number };
  /** How long passes may keep failing before /readyz turns false (default: PassLoop's). */
  readonly failureGraceMs?: number;
  /** Informer restart backoff (default 1 → 30 s); tests shorten it. */
  readonly restartDelayMs?: { readonly min: number; readonly max: number };
}

export interface RunningEndpointController {
  readonly controller: EndpointController;
  readonly health: HealthServer;
  readonly metrics: EndpointMetrics;
  /** Graceful: stop watching and programming; pod namespaces are left as they are. */
  stop(): Promise<void>;
}

export async function startEndpointController(config: EndpointControllerConfig, log: Logger): Promise<RunningEndpointController> {
  if (config.nodeName === '') throw new Error('the node name is empty: set --node-name or NODE_NAME (the downward API spec.nodeName)');
  // The VIP ranges: the VipPools' (read from the cluster cache below) plus --vip-cidr.
  const flagCidrs = config.vipCidrs.map((c) => parseCidr(c));
  const readPools = config.vipPools ?? false;
  // Neither: nothing could ever be owned. Refuse to start rather than report ready and program nothing.
  if (!readPools && flagCidrs.length === 0) throw new Error('no VIP range: read them from the VipPools (the default; drop --no-vip-pools) or set --vip-cidr');
  // Host networking on every node, directors included (VIPs are local there): never a wildcard or
  // a VIP (checked against --vip-cidr now, against the pools' ranges as they come).
  const metricsHost = checkMetricsHost(config.metricsHost, cidrOwnership(flagCidrs));
  const kc = loadKubeConfig(config.kubeconfig !== undefined ? { kubeconfig: config.kubeconfig } : {});
  const cache = createClusterCache(kc, {
    kinds: ['services', 'endpointslices', 'pods', ...(readPools ? (['vippools'] as const) : [])] satisfies WatchedKind[],
    podFieldSelector: `spec.nodeName=${config.nodeName}`,
    log: log.child({ part: 'cluster-cache' }),
    ...(config.errorGraceMs !== undefined ? { errorGraceMs: { ...config.errorGraceMs } } : {}),
    ...(config.restartDelayMs !== undefined ? { restartDelayMs: { ...config.restartDelayMs } } : {}),
  });
  // Not ready while there is no range at all (vipRanges in the health checks below says why).
  const vipRanges = new VipRangeWatch(cache, {
    extra: flagCidrs,
    pools: readPools,
    log: log.child({ part: 'vip-ranges' }),
    onChange: (set) => {
      log.info({ vipRanges: set.cidrs.map((c) => c.text), vipPools: set.pools }, 'VIP ranges changed');
      if (set.cidrs.length > 0 && vipRanges.owns(metricsHost)) log.error({ metricsHost }, '--metrics-host lies inside the VIP ranges (a VipPool): the health server answers on a VIP; give loopback or the node\'s own address');
      controller.markDirty();
    },
  });
  const owns = vipRanges.owns;
  const resolver = config.resolver ?? chooseResolver({ criSockets: config.criSockets, procScan: config.procScan, procRoot: config.procRoot });
  const programmer = new TunnelProgrammer({
    resolver,
    owns,
    iptables: config.iptables ?? nsenterIptables(),
    hostNetns: config.hostNetns ?? `${config.procRoot}/1/ns/net`,
  });
  log.info({ node: config.nodeName, vipCidrs: config.vipCidrs, vipPools: readPools, resolver: resolver.name }, 'starting');

  const metrics = new EndpointMetrics();
  const events = new PodEventReporter(new EventRecorder(kc, { component: 'balanced-endpoint-controller', host: config.nodeName }));
  const controller = new EndpointController({
    desired: () =>
      desiredPods({
        nodeName: config.nodeName,
        pods: cache.pods(),
        services: cache.services(),
        endpointSlices: cache.endpointSlices(),
        ownsVip: owns,
        defaultClass: config.defaultClass,
      }),
    programmer,
    resyncMs: config.resyncSeconds * 1000,
    ...(config.concurrency !== undefined ? { concurrency: config.concurrency } : {}),
    onPod: (outcome) => {
      metrics.recordPod(outcome);
      events.pod(outcome);
      const pod = `${outcome.target.namespace}/${outcome.target.name}`;
      if (outcome.kind === 'programmed') {
        if (outcome.result.ops.length > 0) log.info({ pod, netns: outcome.result.netns, vips: outcome.target.vips }, describeTunnelOps(outcome.result.ops));
      } else if (outcome.changed) {
        log.warn({ pod, reason: outcome.error.reason, attempts: outcome.attempts, retryInMs: outcome.retryInMs }, outcome.error.message);
      } else {
        log.debug({ pod, reason: outcome.error.reason, attempts: outcome.attempts, retryInMs: outcome.retryInMs }, outcome.error.message);
      }
    },
    onPass: (report) => {
      metrics.recordPass(report);
      events.skipped(report.skipped);
      if (report.visited > 0) log.debug({ visited: report.visited, changed: report.changed, failed: report.failed, ms: report.durationMs, ...report.pods }, 'pass');
    },
    onError: (e) => log.error({ err: e.message }, 'reconcile pass failed'),
    ...(config.failureGraceMs !== undefined ? { failureGraceMs: config.failureGraceMs } : {}),
  });
  cache.onChange((kind, change) => {
    const uid = kind === 'pods' ? change?.object.metadata?.uid : undefined;
    if (uid !== undefined && change?.type === 'update') controller.touch(uid);
    else controller.markDirty();
  });
  const health = await startHealthServer({
    port: config.metricsPort,
    host: metricsHost,
    registry: metrics.registry,
    // ANDed with the cache's readiness (synced; no kind refused past its grace) and the loop's
    // (passes succeed); /healthz = the loop makes progress (health.ts of @balanced/k8s).
    checks: [cache, controller, vipRanges],
    ready: () => ({ ok: cache.synced() && controller.ready, detail: `informers synced: ${cache.synced()}, first pass done: ${controller.ready}` }),
  });
  try {
    await cache.start();
  } catch (e) {
    await health.close();
    resolver.close?.();
    throw e;
  }
  controller.start();
  log.info({ metrics: health.url }, 'running');

  return {
    controller,
    health,
    metrics,
    async stop() {
      await controller.stop();
      await cache.stop();
      await health.close();
      resolver.close?.();
      log.info('stopped; pod namespaces left as they are');
    },
  };
}
