import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { serviceKeyString } from '@balanced/ipvs';
import type { ActualService } from './model.js';
import type { ReconcileReport } from './reconciler.js';

/**
 * Prometheus metrics of one director: IPVS per-service and per-destination stats as read
 * from the kernel, and the controller's own programming counters and sync duration.
 */
export class ControllerMetrics {
  readonly registry = new Registry();
  private readonly syncs = new Counter({ name: 'balanced_ipvs_syncs_total', help: 'Reconcile passes', registers: [this.registry] });
  private readonly ops = new Counter({ name: 'balanced_ipvs_operations_total', help: 'IPVS operations sent, by kind and result', labelNames: ['op', 'result'] as const, registers: [this.registry] });
  private readonly unknown = new Counter({ name: 'balanced_ipvs_outcome_unknown_total', help: 'Passes that ended with an unknown outcome (ENOBUFS) and forced a re-read', registers: [this.registry] });
  private readonly duration = new Histogram({ name: 'balanced_ipvs_sync_duration_seconds', help: 'Duration of a reconcile pass', buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10], registers: [this.registry] });
  private readonly services = new Gauge({ name: 'balanced_ipvs_services', help: 'Virtual services owned by this director', collect: () => this.refreshIfDue(), registers: [this.registry] });
  private readonly svcConns = new Gauge({ name: 'balanced_ipvs_service_connections_total', help: 'Connections scheduled by the service (kernel counter)', collect: () => this.refreshIfDue(), labelNames: ['service'] as const, registers: [this.registry] });
  private readonly svcPkts = new Gauge({ name: 'balanced_ipvs_service_packets_in_total', help: 'Packets in (kernel counter)', collect: () => this.refreshIfDue(), labelNames: ['service'] as const, registers: [this.registry] });
  private readonly svcBytes = new Gauge({ name: 'balanced_ipvs_service_bytes_in_total', help: 'Bytes in (kernel counter)', collect: () => this.refreshIfDue(), labelNames: ['service'] as const, registers: [this.registry] });
  private readonly dstWeight = new Gauge({ name: 'balanced_ipvs_destination_weight', help: 'Current weight (0 = draining)', collect: () => this.refreshIfDue(), labelNames: ['service', 'destination'] as const, registers: [this.registry] });
  private readonly dstActive = new Gauge({ name: 'balanced_ipvs_destination_active_connections', help: 'ActiveConn', collect: () => this.refreshIfDue(), labelNames: ['service', 'destination'] as const, registers: [this.registry] });
  private readonly dstInactive = new Gauge({ name: 'balanced_ipvs_destination_inactive_connections', help: 'InActConn', collect: () => this.refreshIfDue(), labelNames: ['service', 'destination'] as const, registers: [this.registry] });
  private readonly dstConns = new Gauge({ name: 'balanced_ipvs_destination_connections_total', help: 'Connections scheduled to the destination (kernel counter)', collect: () => this.refreshIfDue(), labelNames: ['service', 'destination'] as const, registers: [this.registry] });

  private kernelSource: (() => Promise<readonly ActualService[]>) | undefined;
  private minIntervalMs = 10_000;
  private now: () => number = Date.now;
  private refreshedAt = -Infinity;
  private refreshing: Promise<void> | undefined;

  /**
   * Read kernel stats when Prometheus scrapes, at most every `minIntervalMs` — never on the
   * programming path, where a dump of a large table would sit in front of the next batch.
   * Every kernel gauge awaits the same read, so one scrape shows one consistent table.
   */
  readKernelOnScrape(source: () => Promise<readonly ActualService[]>, minIntervalMs = 10_000, now: () => number = Date.now): void {
    this.kernelSource = source;
    this.minIntervalMs = minIntervalMs;
    this.now = now;
  }

  private refreshIfDue(): Promise<void> | undefined {
    const source = this.kernelSource;
    if (!source) return undefined;
    if (this.refreshing) return this.refreshing;
    if (this.now() - this.refreshedAt < this.minIntervalMs) return undefined;
    this.refreshing = source()
      .then((t) => {
        this.refreshedAt = this.now();
        this.recordKernel(t);
      })
      .catch(() => undefined)
      .finally(() => (this.refreshing = undefined));
    return this.refreshing;
  }

  private readonly sysctlWrong = new Gauge({ name: 'balanced_director_sysctl_mismatch', help: '1 when a director sysctl differs from what a stateless director needs (pod mode only checks them)', labelNames: ['sysctl', 'value', 'wanted'] as const, registers: [this.registry] });

  /** Director sysctls that differ (checked in pod mode; set in host mode). */
  recordSysctls(wrong: readonly { name: string; from: string; to: string }[]): void {
    this.sysctlWrong.reset();
    for (const w of wrong) this.sysctlWrong.set({ sysctl: w.name, value: w.from, wanted: w.to }, 1);
  }

  private readonly failingServices = new Gauge({ name: 'balanced_ipvs_failing_services', help: 'Virtual services whose ops the kernel refuses, retried on their own backoff (the others keep programming)', registers: [this.registry] });
  private readonly readyGauge = new Gauge({ name: 'balanced_ipvs_ready', help: '1 while the director is ready (caches synced and recent passes program the kernel)', registers: [this.registry] });

  private refusedSource: (() => Promise<ReadonlyMap<string, number>>) | undefined;
  private readonly sourceRefused = new Gauge({
    name: 'balanced_ipvs_source_range_refused_packets_total',
    help: 'Packets dropped before IPVS because the client is outside the Service\'s loadBalancerSourceRanges (nftables rule counters)',
    labelNames: ['service'] as const,
    registers: [this.registry],
    collect: async () => {
      const source = this.refusedSource;
      if (!source) return;
      const counts = await source().catch(() => undefined);
      if (counts === undefined) return;
      this.sourceRefused.reset();
      for (const [service, n] of counts) this.sourceRefused.set({ service }, n);
    },
  });

  /** Read the source-range refusal counters when Prometheus scrapes. */
  readSourceRangeRefusals(source: () => Promise<ReadonlyMap<string, number>>): void {
    this.refusedSource = source;
  }

  recordFailingServices(n: number): void {
    this.failingServices.set(n);
  }

  recordReady(ok: boolean): void {
    this.readyGauge.set(ok ? 1 : 0);
  }

  recordPass(report: ReconcileReport): void {
    this.syncs.inc();
    this.duration.observe(report.durationMs / 1000);
    const failed = new Set(report.failed.map((f) => f.op));
    for (const op of report.ops) this.ops.inc({ op: op.op, result: failed.has(op) ? 'error' : 'ok' });
    if (report.outcomeUnknown) this.unknown.inc();
  }

  /** Replace the stats gauges with what the kernel holds now. */
  recordKernel(table: readonly ActualService[]): void {
    for (const g of [this.svcConns, this.svcPkts, this.svcBytes, this.dstWeight, this.dstActive, this.dstInactive, this.dstConns]) g.reset();
    this.services.set(table.length);
    for (const { service, destinations } of table) {
      const s = serviceKeyString(service.key);
      const st = service.stats64 ?? service.stats;
      this.svcConns.set({ service: s }, st?.connections ?? 0);
      this.svcPkts.set({ service: s }, st?.packetsIn ?? 0);
      this.svcBytes.set({ service: s }, st?.bytesIn ?? 0);
      for (const d of destinations) {
        const labels = { service: s, destination: `${d.address}:${d.port}` };
        this.dstWeight.set(labels, d.weight);
        this.dstActive.set(labels, d.activeConnections);
        this.dstInactive.set(labels, d.inactiveConnections);
        this.dstConns.set(labels, (d.stats64 ?? d.stats)?.connections ?? 0);
      }
    }
  }
}
