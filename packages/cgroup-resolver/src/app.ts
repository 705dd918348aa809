import { hostname } from 'node:os';
import type { Logger } from 'pino';
import { createClusterCache, EventRecorder, loadKubeConfig, RefusalReporter, startHealthServer, type HealthServer } from '@balanced/k8s';
import { ResolverAgent, type PassReport, type TerminatorPort } from './agent.js';
import { resolverTransforms } from './cache-fields.js';
import { ResolverIndex } from './desired/index.js';
import { BpfError } from './libbpf/errors.js';
import { hostNetnsCookie, ResolverPrograms } from './loader/resolver-programs.js';
import { listOtherNetworkNamespaces } from './loader/pod-namespaces.js';
import { SocketTerminator } from './loader/socket-terminator.js';
import { ResolverMaps } from './maps/resolver-maps.js';
import { ResolverMetrics } from './metrics.js';
import { podEventFields, podsOnNode, startEvents, type EventsConfig, type RunningEvents } from './events/index.js';

export interface ResolverConfig {
  readonly kubeconfig?: string;
  /** This node's name; undefined = out of cluster (no node-local endpoints, no NodePorts). */
  readonly nodeName?: string;
  /** cgroup v2 directory the programs attach to (the host's root cgroup in production). */
  readonly cgroupPath: string;
  /** bpffs folder holding the pinned maps and links. */
  readonly pinRoot: string;
  /** Resolve only in the host network namespace (skip pods' own: service meshes, VMs in pods). */
  readonly hostNetnsOnly: boolean;
  /** Write resolution events to the ring buffer (and read them: log lines, Redis stream, counters). */
  readonly events: boolean;
  /** Where events go (with `events`); default: counters only. */
  readonly eventsOutput?: EventsConfig;
  /** Close sockets resolved to a backend that left its service (kernel ≥ 6.5). */
  readonly terminateSockets: boolean;
  readonly resyncSeconds: number;
  readonly metricsHost: string;
  readonly metricsPort: number;
}

export interface RunningResolver {
  readonly agent: ResolverAgent;
  readonly health: HealthServer;
  readonly metrics: ResolverMetrics;
  /** The resolution events path, with `events`. */
  readonly resolutionEvents: RunningEvents | undefined;
  /** Stop watching and programming. Programs and maps stay pinned: resolution goes on. */
  stop(): Promise<void>;
}

/** A pass older than this many resync periods means the loop is stuck: not live. */
const LIVENESS_PERIODS = 3;

export async function startResolver(config: ResolverConfig, log: Logger): Promise<RunningResolver> {
  const kc = loadKubeConfig(config.kubeconfig !== undefined ? { kubeconfig: config.kubeconfig } : {});
  const programs = ResolverPrograms.attach({ pinRoot: config.pinRoot, cgroupPath: config.cgroupPath });
  log.info({ cgroup: config.cgroupPath, pinRoot: config.pinRoot, adopted: programs.adopted, node: config.nodeName ?? '(out of cluster)' }, programs.adopted ? 'adopted pinned programs and maps (programs replaced in place)' : 'attached programs');
  programs.close();
  const maps = ResolverMaps.open(config.pinRoot);
  if (maps.writeConfig({ hostNetnsCookie: hostNetnsCookie(), hostNetnsOnly: config.hostNetnsOnly, events: config.events })) log.info({ hostNetnsOnly: config.hostNetnsOnly, events: config.events }, 'resolver config written');

  let terminator: TerminatorPort | undefined;
  if (config.terminateSockets) {
    try {
      const t = SocketTerminator.load({ pinRoot: config.pinRoot });
      terminator = {
        terminate: (removed) => {
          const r = t.terminate(removed, config.hostNetnsOnly ? [] : listOtherNetworkNamespaces());
          if (r.destroyed > 0) log.info({ destroyed: r.destroyed, namespaces: r.namespaces }, 'closed sockets to removed backends');
          return r;
        },
      };
    } catch (e) {
      if (!(e instanceof BpfError)) throw e;
      log.warn(
        { err: e.message, code: e.code },
        'sockets to removed backends cannot be closed on this kernel (bpf_sock_destroy needs Linux 6.5): a connected socket (long-lived TCP, connected UDP) keeps its backend until the application reconnects; new connections never pick a removed backend',
      );
    }
  }

  const metrics = new ResolverMetrics({ socketTermination: terminator !== undefined });
  metrics.readMapsOnScrape(maps);
  const events = new EventRecorder(kc, { component: 'balanced-cgroup-resolver', host: config.nodeName ?? hostname() });
  const reporter = new RefusalReporter(events);
  // Resolution events name their client pods from this node's pods (out of cluster every client is the host).
  const eventPods = config.events && config.nodeName !== undefined;
  const cache = createClusterCache(kc, {
    kinds: ['services', 'endpointslices', 'nodes', ...(eventPods ? (['pods'] as const) : [])],
    transform: { ...resolverTransforms, ...(eventPods ? { pods: podEventFields } : {}) },
    ...(eventPods && config.nodeName !== undefined ? { podFieldSelector: podsOnNode(config.nodeName) } : {}),
    log: log.child({ part: 'cluster-cache' }),
  });
  const resolutionEvents = config.events
    ? startEvents(config.eventsOutput ?? { log: { sample: 1, perSecond: 0 } }, {
        ringFd: maps.fd('bd_events'),
        cgroupRoot: config.cgroupPath,
        ...(eventPods ? { pods: cache } : {}),
        metrics,
        log,
      })
    : undefined;
  // The desired state, rebuilt from the cache's events only where the cluster changed.
  const index = new ResolverIndex({ cluster: cache, nodeName: config.nodeName });
  const agent = new ResolverAgent({
    maps,
    ...(terminator ? { terminator } : {}),
    desired: () => index.snapshot(),
    resyncMs: config.resyncSeconds * 1000,
    onPass: (report: PassReport) => {
      metrics.recordPass(report);
      resolutionEvents?.services.learn(report.plan);
      for (const r of reporter.report(report.desired.refusals)) log.warn({ object: r.object, reason: r.reason }, r.message);
      for (const f of report.apply.failed) log.error({ op: f.op.op, err: f.error.message }, 'map operation failed');
      if (report.plan.ops.length) {
        const step = report.step.of > 1 ? { step: report.step.index + 1, steps: report.step.of } : {};
        log.info({ ops: report.plan.ops.length, writes: report.apply.writes, failed: report.apply.failed.length, skipped: report.apply.skipped.length, ms: Math.round(report.ms * 10) / 10, fullRead: report.fullRead, ...step }, 'programmed maps');
      }
    },
    onError: (e) => {
      metrics.recordPassError();
      log.error({ err: e.message }, 'resolver pass failed');
    },
  });
  cache.onChange((kind, change) => {
    // Pods are watched for the resolution events only; the desired state does not read them.
    if (kind === 'pods') {
      resolutionEvents?.podsChanged();
      return;
    }
    index.observe(kind, change);
    agent.markDirty();
  });
  const resyncMs = config.resyncSeconds * 1000;
  const health = await startHealthServer({
    port: config.metricsPort,
    host: config.metricsHost,
    registry: metrics.registry,
    // The cache (listed, no kind refused or failing past its grace) and the agent's loop (recent
    // passes succeed; none stuck) count too.
    checks: [cache, agent],
    ready: () => {
      const good = agent.lastSuccess;
      const recent = good !== undefined && Date.now() - good < LIVENESS_PERIODS * resyncMs;
      return { ok: recent, detail: `last good pass: ${good === undefined ? 'never' : new Date(good).toISOString()}` };
    },
    live: () => {
      const last = agent.lastPass;
      return last === undefined || Date.now() - last < LIVENESS_PERIODS * resyncMs;
    },
  });
  await cache.start();
  agent.start();
  log.info({ metrics: health.url }, 'running');

  return {
    agent,
    health,
    metrics,
    resolutionEvents,
    async stop() {
      await agent.stop();
      await cache.stop();
      await resolutionEvents?.close();
      await health.close();
      maps.close();
      log.info('stopped; programs and maps stay pinned and keep resolving');
    },
  };
}
