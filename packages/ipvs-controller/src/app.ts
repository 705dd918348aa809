import { hostname } from 'node:os';
import { basename } from 'node:path';
import type { Logger } from 'pino';
import { IpvsClient } from '@balanced/ipvs';
import { RouteClient } from '@balanced/netlink';
import { createClusterCache, desiredStateTransforms, EventRecorder, loadKubeConfig, RefusalReporter, startHealthServer, type HealthServer } from '@balanced/k8s';
import { Controller } from './controller.js';
import { DesiredIndex } from './desired-index.js';
import { ipvsKernel } from './kernel.js';
import { ControllerMetrics } from './metrics.js';
import { applyNotrack } from './notrack.js';
import { cidrOwnership, serviceOwnership } from './ownership.js';
import { Reconciler, describeOp } from './reconciler.js';
import { applySysctls, checkSysctls } from './sysctls.js';
import { syncVips } from './vips.js';

export interface ControllerConfig {
  readonly kubeconfig?: string;
  /** VIP CIDRs this director owns; nothing outside them is ever touched. */
  readonly vipCidrs: readonly string[];
  readonly vipInterface: string;
  readonly defaultClass: boolean;
  /** host: this process runs in the node's namespace; pod: in its own pod namespace. */
  readonly networking: 'host' | 'pod';
  /** Program this network namespace (path) instead of our own (lab and tests). */
  readonly netns?: string;
  readonly resyncSeconds: number;
  readonly drainSeconds: number;
  readonly metricsHost: string;
  readonly metricsPort: number;
  readonly sysctls: boolean;
  readonly notrack: boolean;
}

export interface RunningController {
  readonly controller: Controller;
  readonly health: HealthServer;
  readonly metrics: ControllerMetrics;
  /** Graceful: stop watching and programming; kernel state is left exactly as it is. */
  stop(): Promise<void>;
}

export async function startController(config: ControllerConfig, log: Logger): Promise<RunningController> {
  const ownsIp = cidrOwnership(config.vipCidrs);
  const owns = serviceOwnership(ownsIp);
  const kc = loadKubeConfig(config.kubeconfig !== undefined ? { kubeconfig: config.kubeconfig } : {});
  const ipvs = await IpvsClient.open(config.netns !== undefined ? { netns: config.netns } : {});
  const route = RouteClient.open(config.netns !== undefined ? { netns: config.netns } : {});
  log.info({ ipvs: (await ipvs.info()).version, networking: config.networking, netns: config.netns ?? 'own', vipCidrs: config.vipCidrs }, 'starting');

  // Networking mode (as BalanceD has it): host — the director runs in the node's namespace
  // (hostNetwork) and sets what it needs itself; pod — it runs unprivileged in its own pod
  // namespace (VIPs reach it through a BGP sidecar peering with the host, e.g. vip-announcer),
  // where /proc/sys is read-only: the pod must request the sysctls in its securityContext, and
  // the controller only checks them and reports what differs (log, metric, /readyz detail).
  const netnsOption = config.netns !== undefined ? { netns: config.netns } : {};
  let sysctlsWrong: readonly { name: string; from: string; to: string }[] = [];
  if (config.sysctls && config.networking === 'host') {
    const changed = applySysctls(netnsOption);
    if (changed.length) log.info({ changed }, 'director sysctls set');
  } else if (config.sysctls) {
    sysctlsWrong = checkSysctls(netnsOption);
    if (sysctlsWrong.length)
      log.warn({ differ: sysctlsWrong }, 'pod networking: director sysctls differ; request them in the pod securityContext.sysctls (kubelet --allowed-unsafe-sysctls=net.ipv4.vs.*)');
  }
  if (config.notrack && config.vipCidrs.length > 0) {
    const netnsName = config.netns?.startsWith('/run/netns/') ? basename(config.netns) : undefined;
    await applyNotrack(config.vipCidrs, netnsName !== undefined ? { netns: netnsName } : {});
  }

  const metrics = new ControllerMetrics();
  metrics.recordSysctls(sysctlsWrong);
  metrics.readKernelOnScrape(async () => (await ipvs.dump()).filter((s) => owns(s.service.key)));
  const events = new EventRecorder(kc, { component: 'balanced-ipvs-controller', host: hostname() });
  const reporter = new RefusalReporter(events);
  // The caches keep only what the desired-state builder reads (the rest of a cluster's objects is not ours to hold).
  const cache = createClusterCache(kc, { kinds: ['services', 'endpointslices', 'pods'], transform: desiredStateTransforms });
  const reconciler = new Reconciler({
    kernel: ipvsKernel(ipvs),
    owns,
    defaultDrainSeconds: config.drainSeconds,
    onVips: async (vips) => {
      const r = await syncVips(route, config.vipInterface, vips, ownsIp);
      if (r.added.length || r.removed.length) log.info(r, 'VIPs on the dummy interface');
    },
  });
  const desired = new DesiredIndex({
    cluster: cache,
    ownsVip: ownsIp,
    defaultClass: config.defaultClass,
    defaultDrainSeconds: config.drainSeconds,
    onRefusals: (refusals, warnings) => {
      for (const r of reporter.report(refusals, warnings)) log.warn({ object: r.object, reason: r.reason }, r.message);
    },
  });
  const controller = new Controller({
    reconciler,
    desired: () => desired.snapshot(),
    resyncMs: config.resyncSeconds * 1000,
    onPass: (report) => {
      metrics.recordPass(report);
      for (const f of report.failed) log.error({ op: describeOp(f.op), err: f.error.message }, 'IPVS operation failed');
      if (report.ops.length) log.info({ ops: report.ops.length, failed: report.failed.length, ms: report.durationMs, read: report.read }, 'programmed IPVS');
      if (report.ops.length) log.debug({ ops: report.ops.map(describeOp) }, 'IPVS operations');
    },
    onError: (e) => log.error({ err: e.message }, 'reconcile pass failed'),
  });
  cache.onChange((kind, change) => {
    desired.observe(kind, change);
    controller.markDirty();
  });
  const health = await startHealthServer({
    port: config.metricsPort,
    host: config.metricsHost,
    registry: metrics.registry,
    ready: () => ({
      ok: cache.synced() && controller.ready,
      detail:
        `informers synced: ${cache.synced()}, kernel programmed: ${controller.ready}` +
        (sysctlsWrong.length ? `; sysctls differ: ${sysctlsWrong.map((w) => `${w.name}=${w.from} (want ${w.to})`).join(', ')}` : ''),
    }),
  });
  await cache.start();
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
      ipvs.close();
      route.close();
      log.info('stopped; kernel state left as it is');
    },
  };
}
