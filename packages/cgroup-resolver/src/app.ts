import { hostname } from 'node:os';
import type { Logger } from 'pino';
import { collectGarbage, createClusterCache, EventRecorder, limitHeapGrowth, loadKubeConfig, prop, RefusalReporter, startHealthServer, type HealthServer } from '@balanced/k8s';
import { trimCHeap } from './c-heap.js';
import { ResolverAgent, type PassReport, type TerminatorPort } from './agent.js';
import { resolverPodsWithEvents, resolverTransforms } from './cache-fields.js';
import { ResolverIndex, type ResolverCluster } from './desired/index.js';
import { CgroupIndex } from './events/cgroup-index.js';
import { PodCgroupLookup } from './pod-cgroups.js';
import { BpfError } from './libbpf/errors.js';
import { hostNetnsCookie, ResolverPrograms } from './loader/resolver-programs.js';
import { SocketTerminator } from './loader/socket-terminator.js';
import { ResolverMaps } from './maps/resolver-maps.js';
import { ResolverMetrics } from './metrics.js';
import { startEvents, type EventsConfig, type RunningEvents } from './events/index.js';
import { agentPolicyPorts } from './policy-status/agent-ports.js';
import { startPolicyStatus, type RunningPolicyStatus } from './policy-status/start.js';
import type { DesiredState } from './model.js';

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
  /**
   * V8's old generation grows this percent over the live heap between full GCs once the first
   * pass has ended (until then V8's own growth: the initial sync builds the whole live set, and
   * a full GC at every 30% of growth cost it ~0.3 s at 10,000 Services); undefined or 0: V8's
   * own growth throughout.
   */
  readonly heapGrowingPercent?: number;
  readonly metricsHost: string;
  readonly metricsPort: number;
  /**
   * Write LocalRedirectPolicy / BalancingPolicy status (one elected agent writes; the Lease
   * lives in this namespace: the agent's own). Undefined: this agent never writes status (out of
   * cluster, or no namespace given).
   */
  readonly policyStatus?: { readonly namespace: string };
}

export interface RunningResolver {
  readonly agent: ResolverAgent;
  readonly health: HealthServer;
  readonly metrics: ResolverMetrics;
  /** The resolution events path, with `events`. */
  readonly resolutionEvents: RunningEvents | undefined;
  /** The policy status writer, with `policyStatus`. */
  readonly policyStatus: RunningPolicyStatus | undefined;
  /** Stop watching and programming. Programs and maps stay pinned: resolution goes on. */
  stop(): Promise<void>;
}

/** Refusals a policy's status says (Accepted=False): not sent as Events by every agent. */
const STATUS_REFUSALS: ReadonlySet<string> = new Set(['InvalidPolicy', 'PolicyConflict']);

/** A pass older than this many resync periods means the loop is stuck: not live. */
const LIVENESS_PERIODS = 3;
/**
 * The policy kinds are retried at most this far apart while they fail: before their CRDs are
 * installed (deploy/policy-crds.yaml is optional) every list answers 404, from every node.
 */
const POLICY_RETRY_MAX_MS = 5 * 60_000;

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
          const r = t.terminate(removed, config.hostNetnsOnly ? [] : t.otherNamespaces());
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
  // A policy's own validity and conflicts are the same on every node and go to its status (one
  // writer): as Events they would come from every node. They are logged once per agent.
  const statusOnly = new RefusalReporter({ record: async () => undefined });
  // Pods: every pod of the cluster (a BalancingPolicy selects pods on any node; a
  // LocalRedirectPolicy this node's) and, with events, what names the client pod of a resolution.
  const cache = createClusterCache(kc, {
    kinds: ['services', 'endpointslices', 'nodes', 'pods'],
    transform: { ...resolverTransforms, pods: config.events ? resolverPodsWithEvents : resolverTransforms.pods },
    log: log.child({ part: 'cluster-cache' }),
  });
  // The policy kinds live in a cache of their own that nothing waits for: their CRDs are optional,
  // and a kind that never lists (404 until the CRDs are installed) would keep the cache from ever
  // starting. Until it lists, there are no policies; it is retried (capped backoff) and logged
  // rarely; its state shows in /readyz's detail, never in readiness itself.
  const policyCache = createClusterCache(kc, {
    kinds: ['localredirectpolicies', 'balancingpolicies'],
    transform: resolverTransforms,
    restartDelayMs: { min: 1000, max: POLICY_RETRY_MAX_MS },
    errorLogIntervalMs: 60 * 60_000,
    log: log.child({ part: 'policy-cache' }),
  });
  const cluster: ResolverCluster = {
    services: () => cache.services(),
    endpointSlices: () => cache.endpointSlices(),
    nodes: () => cache.nodes(),
    pods: () => cache.pods(),
    localRedirectPolicies: () => policyCache.localRedirectPolicies(),
    balancingPolicies: () => policyCache.balancingPolicies(),
  };
  const resolutionEvents = config.events
    ? startEvents(config.eventsOutput ?? { log: { sample: 1, perSecond: 0 } }, {
        ringFd: maps.fd('bd_events'),
        cgroupRoot: config.cgroupPath,
        ...(config.nodeName !== undefined ? { pods: cache } : {}),
        metrics,
        log,
      })
    : undefined;
  // The desired state, rebuilt from the cache's events only where the cluster changed. In the
  // cluster, LocalRedirectPolicy skip lists come from this node's cgroup hierarchy.
  const podCgroups =
    config.nodeName === undefined
      ? undefined
      : new PodCgroupLookup({
          cgroups: new CgroupIndex({ root: config.cgroupPath }),
          onFound: () => {
            index.observeCgroups();
            agent.markDirty();
          },
          onMissing: (uids) =>
            log.warn({ pods: uids, cgroupRoot: config.cgroupPath }, 'pods selected by a LocalRedirectPolicy have no pod cgroup under the cgroup root: they are not used as its backends until one is found (is --cgroup the host root?)'),
        });
  const index = new ResolverIndex({ cluster, nodeName: config.nodeName, ...(podCgroups !== undefined ? { podCgroups: podCgroups.lookup } : {}) });
  /** The desired state the last pass applied (valid while that pass is the last successful one). */
  let lastApplied: DesiredState | undefined;
  let settled = false;
  /** Once, when the first pass has ended (well or not): bound the heap's growth and give back what the sync left. */
  const settleAfterFirstPass = (): void => {
    if (settled) return;
    settled = true;
    const percent = config.heapGrowingPercent ?? 0;
    try {
      limitHeapGrowth(percent);
      const gcMs = collectGarbage();
      const trimmed = trimCHeap();
      log.info({ heapGrowingPercent: percent, gcMs: Math.round(gcMs), cHeapTrimmed: trimmed, rssMb: Math.round(process.memoryUsage.rss() / 1048576) }, 'first pass ended: heap collected, its growth bounded');
    } catch (e) {
      // Memory tuning only: resolution never depends on it.
      log.warn({ err: e instanceof Error ? e.message : String(e) }, 'could not bound the heap after the first pass (V8 keeps its own growth)');
    }
  };
  const agent = new ResolverAgent({
    maps,
    ...(terminator ? { terminator } : {}),
    desired: () => {
      const snapshot = index.snapshot();
      void podCgroups?.afterSnapshot();
      return snapshot;
    },
    resyncMs: config.resyncSeconds * 1000,
    onDrift: (difference) => {
      metrics.recordDrift();
      log.warn({ difference }, 'the pinned maps differ from what this agent wrote (another writer, or a write that was lost): repairing them');
    },
    onPass: (report: PassReport) => {
      lastApplied = report.desired;
      metrics.recordPass(report);
      resolutionEvents?.services.learn(report.plan);
      const refusals = report.desired.refusals;
      const inStatus = (r: (typeof refusals)[number]): boolean => STATUS_REFUSALS.has(r.reason);
      const fresh = [...reporter.report(refusals.filter((r) => !inStatus(r))), ...statusOnly.report(refusals.filter(inStatus))];
      // Status follows the applied state: after a pass that changed the maps, or that found a new
      // refusal with no map change (a frontend lost to an older policy before it was ever held).
      if ((report.plan.ops.length > 0 || fresh.length > 0) && report.step.index === report.step.of - 1) policyStatus?.writer.markDirty();
      for (const r of fresh) log.warn({ object: r.object, reason: r.reason }, r.message);
      for (const f of report.apply.failed) log.error({ op: f.op.op, err: f.error.message }, 'map operation failed');
      if (report.plan.ops.length) {
        const step = report.step.of > 1 ? { step: report.step.index + 1, steps: report.step.of } : {};
        log.info({ ops: report.plan.ops.length, writes: report.apply.writes, failed: report.apply.failed.length, skipped: report.apply.skipped.length, ms: Math.round(report.ms * 10) / 10, fullRead: report.fullRead, ...step }, 'programmed maps');
      }
      const ended = report.step.index === report.step.of - 1 || report.apply.failed.length > 0 || report.apply.skipped.length > 0;
      if (ended && !settled) setImmediate(settleAfterFirstPass);
    },
    onError: (e) => {
      metrics.recordPassError();
      log.error({ err: e.message }, 'resolver pass failed');
      if (!settled) setImmediate(settleAfterFirstPass);
    },
  });
  const observe = (kind: string, change?: { readonly type: 'add' | 'update' | 'delete'; readonly object: unknown }): void => {
    // A pod no policy selects changes nothing: no pass.
    if (!index.observe(kind, change)) return;
    agent.markDirty();
    // A selected pod changes the policy's backends per node.
    if (kind === 'pods') policyStatus?.writer.markDirty();
  };
  cache.onChange((kind, change) => {
    // Resolution events name clients on this node only: other nodes' pods never make their directory stale.
    if (kind === 'pods' && (change === undefined || prop(prop(change.object, 'spec'), 'nodeName') === config.nodeName)) resolutionEvents?.podsChanged();
    observe(kind, change);
  });
  policyCache.onChange((kind, change) => {
    observe(kind, change);
    policyStatus?.writer.markDirty();
  });
  const policyStatus =
    config.policyStatus === undefined
      ? undefined
      : startPolicyStatus({
          kubeConfig: kc,
          namespace: config.policyStatus.namespace,
          identity: config.nodeName ?? hostname(),
          objects: () => [...policyCache.localRedirectPolicies(), ...policyCache.balancingPolicies()],
          synced: () => policyCache.synced() && cache.synced(),
          ports: agentPolicyPorts({
            nodeName: config.nodeName,
            applied: () => (agent.lastSuccess !== undefined && agent.lastSuccess === agent.lastPass ? lastApplied : undefined),
            policies: (kind) => (kind === 'LocalRedirectPolicy' ? policyCache.localRedirectPolicies() : policyCache.balancingPolicies()),
            pods: () => cache.pods(),
          }),
          registry: metrics.registry,
          log: log.child({ part: 'policy-status' }),
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
      const policies = policyCache.synced() ? 'listed' : `not listed (${policyCache.lastError('localredirectpolicies')?.message ?? policyCache.lastError('balancingpolicies')?.message ?? 'pending'}; are deploy/policy-crds.yaml applied?)`;
      return { ok: recent, detail: `last good pass: ${good === undefined ? 'never' : new Date(good).toISOString()}; policies: ${policies}` };
    },
    live: () => {
      const last = agent.lastPass;
      return last === undefined || Date.now() - last < LIVENESS_PERIODS * resyncMs;
    },
  });
  void policyCache.start().catch(() => undefined);
  await cache.start();
  agent.start();
  log.info({ metrics: health.url, policyStatus: config.policyStatus === undefined ? 'not written by this agent' : `lease ${config.policyStatus.namespace}` }, 'running');

  return {
    agent,
    health,
    metrics,
    resolutionEvents,
    policyStatus,
    async stop() {
      await policyStatus?.stop();
      await agent.stop();
      podCgroups?.close();
      await policyCache.stop();
      await cache.stop();
      await resolutionEvents?.close();
      await health.close();
      maps.close();
      log.info('stopped; programs and maps stay pinned and keep resolving');
    },
  };
}
