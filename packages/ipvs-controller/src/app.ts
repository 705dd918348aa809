import { hostname } from 'node:os';
import { basename } from 'node:path';
import type { Logger } from 'pino';
import { IpvsClient } from '@balanced/ipvs';
import { RouteClient } from '@balanced/netlink';
import { createClusterCache, desiredStateTransforms, EventRecorder, loadKubeConfig, RefusalReporter, startHealthServer, VipRangeWatch, type HealthServer, type WatchedKind } from '@balanced/k8s';
import { cidrContains, cidrOwnership, parseCidr, tryParseIp } from '@balanced/net';
import { Controller } from './controller.js';
import { DesiredIndex } from './desired-index.js';
import { ipvsKernel } from './kernel.js';
import { desiredNames } from './metric-names.js';
import { ControllerMetrics } from './metrics.js';
import { NotrackRanges } from './notrack-ranges.js';
import { SourceRangeFirewall } from './source-range-firewall.js';
import { sourceRangeRules } from './source-ranges.js';
import { serviceOwnership } from './ownership.js';
import { Reconciler, describeOp } from './reconciler.js';
import { checkMetricsHosts } from '@balanced/k8s';
import { applySysctls, checkSysctls } from './sysctls.js';
import { syncVips } from './vips.js';

export interface ControllerConfig {
  readonly kubeconfig?: string;
  /**
   * Extra VIP CIDRs this director owns (--vip-cidr), on top of the VipPools' ranges; nothing
   * outside the VIP ranges is ever touched.
   */
  readonly vipCidrs: readonly string[];
  /**
   * Read the VIP ranges from the VipPools (balanced.dev/v1alpha1; the cache then waits for
   * their CRD). The binary's default (--no-vip-pools turns it off); default here false, so a
   * caller that gives vipCidrs (tests, the lab) needs no VipPool CRD.
   */
  readonly vipPools?: boolean;
  readonly vipInterface: string;
  readonly defaultClass: boolean;
  /** host: this process runs in the node's namespace; pod: in its own pod namespace. */
  readonly networking: 'host' | 'pod';
  /** Program this network namespace (path) instead of our own (lab and tests). */
  readonly netns?: string;
  readonly resyncSeconds: number;
  readonly drainSeconds: number;
  /**
   * Address(es) of /healthz /readyz /metrics: loopback and/or the node's own address, never a
   * wildcard or a VIP (refused at start; see checkMetricsHosts). One listener per address.
   */
  readonly metricsHost: string | readonly string[];
  readonly metricsPort: number;
  /** Export the per-destination series (default true); false keeps the per-virtual-service ones. */
  readonly metricsPerDestination?: boolean;
  readonly sysctls: boolean;
  readonly notrack: boolean;
  /**
   * How long a watched kind may keep failing before /readyz turns false (default: the cluster
   * cache's DEFAULT_ERROR_GRACE_MS, 30 s for refused credentials, 120 s for anything else); tests shorten it.
   */
  readonly errorGraceMs?: { readonly refused: number; readonly other: number };
}

export interface RunningController {
  readonly controller: Controller;
  /** The first health/metrics listener (see `healthServers` for all). */
  readonly health: HealthServer;
  readonly healthServers: readonly HealthServer[];
  readonly metrics: ControllerMetrics;
  /** Graceful: stop watching and programming; kernel state is left exactly as it is. */
  stop(): Promise<void>;
}

const errorText = (e: unknown): string => (e instanceof Error ? e.message : String(e));

export async function startController(config: ControllerConfig, log: Logger): Promise<RunningController> {
  // The VIP ranges (what this director owns): the VipPools' ranges, read from the cluster cache
  // below, plus --vip-cidr. A bad --vip-cidr is refused here, before anything starts.
  const flagCidrs = config.vipCidrs.map((c) => parseCidr(c));
  const readPools = config.vipPools ?? false;
  // Pools are not read yet: the listener is checked against --vip-cidr now, and against the pools' ranges as they come.
  const metricsHosts = checkMetricsHosts(config.metricsHost, cidrOwnership(flagCidrs));
  const kc = loadKubeConfig(config.kubeconfig !== undefined ? { kubeconfig: config.kubeconfig } : {});
  // The caches keep only what the desired-state builder reads (the rest of a cluster's objects is not ours to hold).
  const cache = createClusterCache(kc, {
    kinds: ['services', 'endpointslices', 'pods', ...(readPools ? (['vippools'] as const) : [])] satisfies WatchedKind[],
    transform: desiredStateTransforms,
    log: log.child({ part: 'cluster-cache' }),
    ...(config.errorGraceMs !== undefined ? { errorGraceMs: { ...config.errorGraceMs } } : {}),
  });
  const vipRanges = new VipRangeWatch(cache, {
    extra: flagCidrs,
    pools: readPools,
    log: log.child({ part: 'vip-ranges' }),
    onChange: (set) => {
      log.info({ vipRanges: set.cidrs.map((c) => c.text), vipPools: set.pools }, 'VIP ranges changed: every Service is rebuilt and the kernel re-read');
      for (const host of metricsHosts) {
        const ip = tryParseIp(host);
        if (ip !== undefined && set.cidrs.some((c) => cidrContains(c, ip))) log.error({ metricsHost: host }, '--metrics-host lies inside the VIP ranges (a VipPool): the health server answers on a VIP; give loopback or the node\'s own address');
      }
      notrack?.set(set.cidrs.map((c) => c.text)).catch((e: unknown) => log.error({ err: errorText(e) }, 'NOTRACK rules for the new VIP ranges could not be written; retried at the next resync'));
      desired.ownershipChanged();
      controller.resync();
    },
  });
  const ownsIp = vipRanges.owns;
  const owns = serviceOwnership(ownsIp);
  const ipvs = await IpvsClient.open(config.netns !== undefined ? { netns: config.netns } : {});
  const route = RouteClient.open(config.netns !== undefined ? { netns: config.netns } : {});
  log.info({ ipvs: (await ipvs.info()).version, networking: config.networking, netns: config.netns ?? 'own', vipCidrs: config.vipCidrs, vipPools: readPools }, 'starting');

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
  const netnsName = config.netns?.startsWith('/run/netns/') ? basename(config.netns) : undefined;
  const metrics = new ControllerMetrics({ perDestination: config.metricsPerDestination ?? true });
  // Raw-table NOTRACK for the VIP ranges: written now (--vip-cidr), again with the VipPools'
  // ranges once read and whenever they change, and checked on every resync (a tool that
  // flushes the raw table would otherwise leave the director tracking half-flows).
  const notrack = config.notrack ? new NotrackRanges({ ...(netnsName !== undefined ? { netns: netnsName } : {}), log: log.child({ part: 'notrack' }) }, metrics.registry) : undefined;
  await notrack?.set(vipRanges.current.cidrs.map((c) => c.text));

  metrics.recordSysctls(sysctlsWrong);
  metrics.readKernelOnScrape(async () => (await ipvs.dump()).filter((s) => owns(s.service.key)));
  const events = new EventRecorder(kc, { component: 'balanced-ipvs-controller', host: hostname() });
  const reporter = new RefusalReporter(events);
  // spec.loadBalancerSourceRanges: enforced before IPVS, in balanced's own nftables table.
  const firewall = new SourceRangeFirewall(netnsName !== undefined ? { netns: netnsName } : {});
  const rangeReporter = new RefusalReporter(events);
  let rangesDirty = true;
  metrics.readSourceRangeRefusals(() => firewall.refused());
  const reconciler = new Reconciler({
    kernel: ipvsKernel(ipvs),
    owns,
    defaultDrainSeconds: config.drainSeconds,
    beforePlan: async (services, full) => {
      // Re-asserted on every resync (a failure is logged, counted and retried at the next one).
      if (full) await notrack?.check().catch((e: unknown) => log.error({ err: errorText(e) }, 'NOTRACK rules for the VIP ranges could not be written; retried at the next resync'));
      if (!rangesDirty && !full) return;
      rangesDirty = false;
      try {
        const ranges = sourceRangeRules(cache.services(), (id) => services.has(id));
        for (const r of rangeReporter.report(ranges.refusals)) log.warn({ object: r.object, reason: r.reason }, r.message);
        if (await firewall.sync(ranges.rules)) log.info({ guarded: ranges.rules.map((r) => r.id) }, 'source ranges enforced');
      } catch (e) {
        rangesDirty = true;
        throw e;
      }
    },
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
  // Series named after the Service port and pod behind them, from the desired state (no second cache).
  metrics.nameWith(desiredNames((id) => desired.owner(id)));
  const controller = new Controller({
    reconciler,
    desired: () => desired.snapshot(),
    resyncMs: config.resyncSeconds * 1000,
    onPass: (report) => {
      metrics.recordPass(report);
      metrics.recordFailingServices(controller.failingServices);
      metrics.recordReady(cache.readiness().ok && controller.ready);
      for (const f of report.failed) log.error({ op: describeOp(f.op), err: f.error.message }, 'IPVS operation failed');
      if (report.ops.length) log.info({ ops: report.ops.length, failed: report.failed.length, ms: report.durationMs, read: report.read }, 'programmed IPVS');
      if (report.ops.length) log.debug({ ops: report.ops.map(describeOp) }, 'IPVS operations');
    },
    onError: (e) => log.error({ err: e.message }, 'reconcile pass failed'),
  });
  cache.onChange((kind, change) => {
    if (kind === 'services') rangesDirty = true;
    desired.observe(kind, change);
    controller.markDirty();
  });
  // ready = caches synced and recent passes program the kernel; live = the loop makes progress.
  let wasReady: boolean | undefined;
  const ready = () => {
    // Informers: listed, and no kind refused (RBAC, token) or failing past its grace.
    const informers = cache.readiness();
    const programming = controller.readiness();
    const ok = informers.ok && programming.ok;
    metrics.recordReady(ok);
    if (wasReady !== undefined && ok !== wasReady) (ok ? log.info : log.warn).call(log, { detail: programming.detail, informers: informers.detail }, ok ? 'ready again' : 'NOT READY');
    wasReady = ok;
    return {
      ok: programming.ok,
      detail:
        // The cache's own readiness and detail come from `checks: [cache]` below.
        `${programming.ok ? '' : 'NOT PROGRAMMING: '}${programming.detail}` +
        (sysctlsWrong.length ? `; sysctls differ: ${sysctlsWrong.map((w) => `${w.name}=${w.from} (want ${w.to})`).join(', ')}` : ''),
    };
  };
  const healthServers: HealthServer[] = [];
  try {
    for (const host of metricsHosts) healthServers.push(await startHealthServer({ port: config.metricsPort, host, registry: metrics.registry, checks: [cache, { metrics: () => vipRanges.metrics() }], ready, live: () => controller.liveness().ok }));
  } catch (e) {
    await Promise.all(healthServers.map((h) => h.close()));
    ipvs.close();
    route.close();
    throw e;
  }
  const health = healthServers[0] as HealthServer;
  await cache.start();
  controller.start();
  log.info({ metrics: healthServers.map((h) => h.url) }, 'running');

  return {
    controller,
    health,
    healthServers,
    metrics,
    async stop() {
      await controller.stop();
      await cache.stop();
      await Promise.all(healthServers.map((h) => h.close()));
      ipvs.close();
      route.close();
      log.info('stopped; kernel state left as it is');
    },
  };
}
