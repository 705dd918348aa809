import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { PassReport } from './agent.js';
import type { EventsMetricsPort } from './events/pipeline.js';
import type { RedisDropReason } from './events/redis-sink.js';

/** What the metrics read from the maps when Prometheus scrapes (never on the programming path). */
export interface MapsStatsSource {
  /** Kernel counters (bd_counters, summed over CPUs) by name. */
  counters(): Readonly<Record<string, bigint>>;
  /** Kernel memory of every map (fdinfo memlock), inner maps included. */
  memory(): { readonly byMap: Readonly<Record<string, number>>; readonly innerBytes: number; readonly totalBytes: number };
  /** Entries and capacity per map, where cheap to know. */
  fill(): Readonly<Record<string, { readonly entries: number; readonly max: number }>>;
}

/** Prometheus metrics of one resolver agent. */
export class ResolverMetrics implements EventsMetricsPort {
  readonly registry = new Registry();
  private readonly passes = new Counter({ name: 'balanced_resolver_passes_total', help: 'Reconcile passes', labelNames: ['read'] as const, registers: [this.registry] });
  private readonly passFailures = new Counter({ name: 'balanced_resolver_pass_errors_total', help: 'Passes that threw (maps unreadable, builder bug)', registers: [this.registry] });
  private readonly drifts = new Counter({ name: 'balanced_resolver_maps_drift_total', help: 'Re-reads that found the pinned maps other than this agent left them (another writer, a lost write); each is repaired', registers: [this.registry] });
  private readonly ops = new Counter({ name: 'balanced_resolver_map_operations_total', help: 'Planned map operations by kind and result (ok, error, skipped)', labelNames: ['op', 'result'] as const, registers: [this.registry] });
  private readonly writes = new Counter({ name: 'balanced_resolver_map_writes_total', help: 'bpf() calls that changed a map', registers: [this.registry] });
  private readonly duration = new Histogram({ name: 'balanced_resolver_pass_duration_seconds', help: 'Duration of a reconcile pass', buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5], registers: [this.registry] });
  private readonly lastSync = new Gauge({ name: 'balanced_resolver_last_sync_timestamp_seconds', help: 'End of the last pass that applied everything it planned', registers: [this.registry] });
  private readonly services = new Gauge({ name: 'balanced_resolver_services', help: 'Resolvable backend sets programmed (one per Service port and frontend kind that differ)', registers: [this.registry] });
  private readonly frontends = new Gauge({ name: 'balanced_resolver_frontends', help: 'Frontends programmed (address, port, protocol)', registers: [this.registry] });
  private readonly refusals = new Gauge({ name: 'balanced_resolver_refusals', help: 'Objects not resolved as asked in the last pass (see Events)', registers: [this.registry] });
  private readonly destroyed = new Counter({ name: 'balanced_resolver_sockets_destroyed_total', help: 'Sockets closed because their backend left the service', registers: [this.registry] });
  private readonly kernel = new Gauge({ name: 'balanced_resolver_kernel_events_total', help: 'Counters kept by the BPF programs (resolved, refused, revnat, …), summed over CPUs', labelNames: ['counter'] as const, collect: () => this.collectKernel(), registers: [this.registry] });
  // Filled by the kernel gauge's collect, which prom-client runs first (registration order).
  private readonly memory = new Gauge({ name: 'balanced_resolver_map_memory_bytes', help: 'Kernel memory of each map as the kernel accounts it (fdinfo memlock); bd_services_inner = all service tables together', labelNames: ['map'] as const, registers: [this.registry] });
  private readonly entries = new Gauge({ name: 'balanced_resolver_map_entries', help: 'Entries per map (bd_backends: distinct backends programmed)', labelNames: ['map'] as const, registers: [this.registry] });
  private readonly capacity = new Gauge({ name: 'balanced_resolver_map_capacity', help: 'max_entries per map', labelNames: ['map'] as const, registers: [this.registry] });
  private readonly socketTermination = new Gauge({ name: 'balanced_resolver_socket_termination_available', help: '1 when sockets to removed backends are closed (kernel ≥ 6.5, bpf_sock_destroy)', registers: [this.registry] });

  // ---- resolution events (src/events): counted as they are read from the ring buffer
  private readonly resolutions = new Counter({ name: 'balanced_resolver_resolutions_total', help: 'Resolution events read, by desired service (id:<n> before the first pass names it), frontend kind and result', labelNames: ['service', 'kind', 'result'] as const, registers: [this.registry] });
  private readonly failures = new Counter({ name: 'balanced_resolver_resolution_failures_total', help: 'Resolution events that failed, by reason (refused: no backend; no-backend: maps inconsistent; family-mismatch)', labelNames: ['reason'] as const, registers: [this.registry] });
  private readonly ringLost = new Counter({ name: 'balanced_resolver_events_ring_lost_total', help: 'Events the BPF programs could not put in the ring buffer (full: the reader fell behind)', collect: () => this.collectRingLost(), registers: [this.registry] });
  private readonly lost = new Counter({ name: 'balanced_resolver_events_lost_total', help: 'Events read but not handled: decode (malformed record), backlog (handling fell behind)', labelNames: ['reason'] as const, registers: [this.registry] });
  private readonly logSuppressedCount = new Counter({ name: 'balanced_resolver_events_log_suppressed_total', help: 'Events not logged because of --events-log-sample / --events-log-rate', registers: [this.registry] });
  private readonly redisWrittenCount = new Counter({ name: 'balanced_resolver_events_redis_written_total', help: 'Stream entries written to Redis', registers: [this.registry] });
  private readonly redisDroppedCount = new Counter({ name: 'balanced_resolver_events_redis_dropped_total', help: 'Events dropped on the way to Redis: queue-full (Redis away or slow), write-failed (connection lost mid-write or command error)', labelNames: ['reason'] as const, registers: [this.registry] });
  private readonly redisUp = new Gauge({ name: 'balanced_resolver_events_redis_connected', help: '1 while the events Redis connection is ready', registers: [this.registry] });

  private source: MapsStatsSource | undefined;

  constructor(options: { socketTermination: boolean }) {
    this.socketTermination.set(options.socketTermination ? 1 : 0);
  }

  /** Read kernel counters, memory and fill levels at scrape time. */
  readMapsOnScrape(source: MapsStatsSource): void {
    this.source = source;
  }

  recordPass(report: PassReport, now: number = Date.now()): void {
    this.passes.inc({ read: report.fullRead ? 'full' : 'cached' });
    this.duration.observe(report.ms / 1000);
    const failed = new Set(report.apply.failed.map((f) => f.op));
    const skipped = new Set(report.apply.skipped);
    // Counted first, then one increment per (op, result): a first pass at 10k Services is 120,000 ops.
    const counts = new Map<string, { op: string; result: string; n: number }>();
    for (const op of report.plan.ops) {
      const result = failed.has(op) ? 'error' : skipped.has(op) ? 'skipped' : 'ok';
      const key = `${op.op} ${result}`;
      const c = counts.get(key);
      if (c === undefined) counts.set(key, { op: op.op, result, n: 1 });
      else c.n++;
    }
    for (const c of counts.values()) this.ops.inc({ op: c.op, result: c.result }, c.n);
    this.writes.inc(report.apply.writes);
    if (report.destroyed > 0) this.destroyed.inc(report.destroyed);
    if (failed.size === 0 && skipped.size === 0) this.lastSync.set(now / 1000);
    this.services.set(report.desired.services.size);
    this.frontends.set(report.desired.frontends.length);
    this.refusals.set(report.desired.refusals.length);
  }

  recordPassError(): void {
    this.passFailures.inc();
  }

  recordDrift(): void {
    this.drifts.inc();
  }

  resolution(service: string, kind: string, result: string): void {
    this.resolutions.inc({ service, kind, result });
    if (result !== 'resolved') this.failures.inc({ reason: result });
  }

  eventsLost(n: number, reason: 'decode' | 'backlog'): void {
    this.lost.inc({ reason }, n);
  }

  logSuppressed(n: number): void {
    this.logSuppressedCount.inc(n);
  }

  redisWritten(n: number): void {
    this.redisWrittenCount.inc(n);
  }

  redisDropped(n: number, reason: RedisDropReason): void {
    this.redisDroppedCount.inc({ reason }, n);
  }

  redisConnected(up: boolean): void {
    this.redisUp.set(up ? 1 : 0);
  }

  private collectRingLost(): void {
    try {
      const n = this.source?.counters().eventsDropped;
      if (n === undefined) return;
      this.ringLost.reset();
      this.ringLost.inc(Number(n));
    } catch {
      // keeps its last value
    }
  }

  private collectKernel(): void {
    const source = this.source;
    if (!source) return;
    try {
      for (const [name, value] of Object.entries(source.counters())) this.kernel.set({ counter: name }, Number(value));
      const mem = source.memory();
      for (const [name, bytes] of Object.entries(mem.byMap)) this.memory.set({ map: name }, bytes);
      this.memory.set({ map: 'bd_services_inner' }, mem.innerBytes);
      for (const [name, f] of Object.entries(source.fill())) {
        this.entries.set({ map: name }, f.entries);
        this.capacity.set({ map: name }, f.max);
      }
    } catch {
      // A scrape never fails because a map could not be read; the gauges keep their last values.
    }
  }
}
