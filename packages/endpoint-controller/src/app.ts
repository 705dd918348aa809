import type { Logger } from 'pino';
import { createClusterCache, EventRecorder, loadKubeConfig, startHealthServer, type HealthServer } from '@balanced/k8s';
import { EndpointController } from './controller.js';
import { desiredPods } from './desired.js';
import { PodEventReporter } from './event-reporter.js';
import { nsenterIptables, type NamespaceIptables } from './iptables.js';
import { EndpointMetrics } from './metrics.js';
import type { PodNetnsResolver } from './netns/resolver.js';
import { checkMetricsHost, cidrOwnership } from '@balanced/k8s';
import { TunnelProgrammer } from './programmer.js';
import { chooseResolver } from './resolvers.js';
import { describeTunnelOps } from './tunnel-plan.js';

export interface EndpointControllerConfig {
  readonly kubeconfig?: string;
  /** This node (spec.nodeName of the pods to manage). */
  readonly nodeName: string;
  /** VIP CIDRs owned (as the directors' --vip-cidr); nothing outside them is touched. */
  readonly vipCidrs: readonly string[];
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
  // Without a VIP range nothing is ever owned: refuse to start rather than report ready and program nothing.
  if (config.vipCidrs.length === 0) throw new Error('no VIP range: set --vip-cidr to the VIP CIDRs of the VipPools (as the directors\' --vip-cidr)');
  const owns = cidrOwnership(config.vipCidrs);
  // Host networking on every node, directors included (VIPs are local there): never a wildcard or a VIP.
  const metricsHost = checkMetricsHost(config.metricsHost, owns);
  const kc = loadKubeConfig(config.kubeconfig !== undefined ? { kubeconfig: config.kubeconfig } : {});
  const resolver = config.resolver ?? chooseResolver({ criSockets: config.criSockets, procScan: config.procScan, procRoot: config.procRoot });
  const programmer = new TunnelProgrammer({
    resolver,
    owns,
    iptables: config.iptables ?? nsenterIptables(),
    hostNetns: config.hostNetns ?? `${config.procRoot}/1/ns/net`,
  });
  log.info({ node: config.nodeName, vipCidrs: config.vipCidrs, resolver: resolver.name }, 'starting');

  const metrics = new EndpointMetrics();
  const events = new PodEventReporter(new EventRecorder(kc, { component: 'balanced-endpoint-controller', host: config.nodeName }));
  const cache = createClusterCache(kc, {
    kinds: ['services', 'endpointslices', 'pods'],
    podFieldSelector: `spec.nodeName=${config.nodeName}`,
    log: log.child({ part: 'cluster-cache' }),
    ...(config.errorGraceMs !== undefined ? { errorGraceMs: { ...config.errorGraceMs } } : {}),
    ...(config.restartDelayMs !== undefined ? { restartDelayMs: { ...config.restartDelayMs } } : {}),
  });
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
    checks: [cache, controller],
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
