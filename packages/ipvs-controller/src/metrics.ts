import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { destinationKeyString, serviceKeyString, type Destination, type Stats } from '@balanced/ipvs';
import type { MetricNames } from './metric-names.js';
import type { ActualService } from './model.js';
import type { ReconcileReport } from './reconciler.js';
import { TableCounter, TableGauge, type Sample } from './table-metric.js';

/** Labels of a virtual service's series: the IPVS key and the Service port that holds it. */
const SERVICE_LABELS = ['virtual_service', 'namespace', 'service', 'port'] as const;
/** Labels of a destination's series: the above, the destination and its pod. */
const DESTINATION_LABELS = [...SERVICE_LABELS, 'destination', 'pod'] as const;
type ServiceLabel = (typeof SERVICE_LABELS)[number];
type DestinationLabel = (typeof DESTINATION_LABELS)[number];

type StatName = 'connections' | 'packetsIn' | 'packetsOut' | 'bytesIn' | 'bytesOut';

/** Per virtual service: every IPVS stats counter. */
const SERVICE_COUNTERS: readonly (readonly [string, string, StatName])[] = [
  ['balanced_ipvs_service_connections_total', 'Connections scheduled by the virtual service (kernel counter)', 'connections'],
  ['balanced_ipvs_service_packets_in_total', 'Packets from clients to the virtual service (kernel counter)', 'packetsIn'],
  ['balanced_ipvs_service_bytes_in_total', 'Bytes from clients to the virtual service (kernel counter)', 'bytesIn'],
  ['balanced_ipvs_service_packets_out_total', 'Packets back through the director (kernel counter): with direct server return (tunnel, gue, direct) no reply passes it, only ICMP errors about its connections', 'packetsOut'],
  ['balanced_ipvs_service_bytes_out_total', 'Bytes back through the director (kernel counter): with direct server return (tunnel, gue, direct) no reply passes it, only ICMP errors about its connections', 'bytesOut'],
];
/** Per destination: the counters that direct server return does not leave at (nearly) 0. */
const DESTINATION_COUNTERS: readonly (readonly [string, string, StatName])[] = [
  ['balanced_ipvs_destination_connections_total', 'Connections scheduled to the destination (kernel counter)', 'connections'],
  ['balanced_ipvs_destination_packets_in_total', 'Packets forwarded to the destination (kernel counter)', 'packetsIn'],
  ['balanced_ipvs_destination_bytes_in_total', 'Bytes forwarded to the destination (kernel counter)', 'bytesIn'],
];
const DESTINATION_GAUGES: readonly (readonly [string, string, (d: Destination) => number])[] = [
  ['balanced_ipvs_destination_weight', 'Current weight (0 = draining)', (d) => d.weight],
  ['balanced_ipvs_destination_active_connections', 'ActiveConn: connections in ESTABLISHED (TCP) on this director', (d) => d.activeConnections],
  ['balanced_ipvs_destination_inactive_connections', 'InActConn: other connection entries on this director', (d) => d.inactiveConnections],
];

interface ServiceRow {
  readonly labels: Readonly<Record<ServiceLabel, string>>;
  readonly stats: Stats | undefined;
}
interface DestinationRow {
  readonly labels: Readonly<Record<DestinationLabel, string>>;
  readonly stats: Stats | undefined;
  readonly destination: Destination;
}

export interface ControllerMetricsOptions {
  /**
   * Export the per-destination series (weight, connections, packets and bytes per pod):
   * six series per destination. false leaves only the per-virtual-service series.
   */
  readonly perDestination?: boolean;
}

/**
 * Prometheus metrics of one director: IPVS per-service and per-destination stats as read
 * from the kernel, named after the Kubernetes Service port and pod that own them, and the
 * controller's own programming counters and sync duration.
 */
export class ControllerMetrics {
  readonly registry = new Registry();
  readonly perDestination: boolean;
  private readonly syncs = new Counter({ name: 'balanced_ipvs_syncs_total', help: 'Reconcile passes', registers: [this.registry] });
  private readonly ops = new Counter({ name: 'balanced_ipvs_operations_total', help: 'IPVS operations sent, by kind and result', labelNames: ['op', 'result'] as const, registers: [this.registry] });
  private readonly unknown = new Counter({ name: 'balanced_ipvs_outcome_unknown_total', help: 'Passes that ended with an unknown outcome (ENOBUFS) and forced a re-read', registers: [this.registry] });
  private readonly duration = new Histogram({ name: 'balanced_ipvs_sync_duration_seconds', help: 'Duration of a reconcile pass', buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10], registers: [this.registry] });
  private readonly services = new Gauge({ name: 'balanced_ipvs_services', help: 'Virtual services owned by this director', collect: () => this.refreshIfDue(), registers: [this.registry] });

  private serviceRows: readonly ServiceRow[] = [];
  private destinationRows: readonly DestinationRow[] = [];
  private names: MetricNames = () => undefined;

  private kernelSource: (() => Promise<readonly ActualService[]>) | undefined;
  private minIntervalMs = 10_000;
  private now: () => number = Date.now;
  private refreshedAt = -Infinity;
  private refreshing: Promise<void> | undefined;

  constructor(options: ControllerMetricsOptions = {}) {
    this.perDestination = options.perDestination ?? true;
    const registers = [this.registry];
    for (const [name, help, stat] of SERVICE_COUNTERS) {
      new TableCounter({ name, help, labelNames: SERVICE_LABELS, registers }, async () => {
        await this.refreshIfDue();
        return this.serviceRows.map((r): Sample<ServiceLabel> => ({ labels: r.labels, value: r.stats?.[stat] ?? 0 }));
      });
    }
    if (!this.perDestination) return;
    for (const [name, help, stat] of DESTINATION_COUNTERS) {
      new TableCounter({ name, help, labelNames: DESTINATION_LABELS, registers }, async () => {
        await this.refreshIfDue();
        return this.destinationRows.map((r): Sample<DestinationLabel> => ({ labels: r.labels, value: r.stats?.[stat] ?? 0 }));
      });
    }
    for (const [name, help, value] of DESTINATION_GAUGES) {
      new TableGauge({ name, help, labelNames: DESTINATION_LABELS, registers }, async () => {
        await this.refreshIfDue();
        return this.destinationRows.map((r): Sample<DestinationLabel> => ({ labels: r.labels, value: value(r.destination) }));
      });
    }
  }

  /** Name the series after the Service ports and pods behind them (see desiredNames). */
  nameWith(names: MetricNames): void {
    this.names = names;
  }

  /**
   * Read kernel stats when Prometheus scrapes, at most every `minIntervalMs` — never on the
   * programming path, where a dump of a large table would sit in front of the next batch.
   * Every kernel series awaits the same read, so one scrape shows one consistent table.
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
  private readonly sourceRefused = new TableCounter(
    {
      name: 'balanced_ipvs_source_range_refused_packets_total',
      help: 'Packets dropped before IPVS because the client is outside the Service\'s loadBalancerSourceRanges (nftables rule counters)',
      labelNames: SERVICE_LABELS,
      registers: [this.registry],
    },
    async () => {
      const counts = await this.refusedSource?.().catch(() => undefined);
      return [...(counts ?? [])].map(([id, value]): Sample<ServiceLabel> => ({ labels: this.serviceLabels(id), value }));
    },
  );

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

  /** Replace the kernel series with what the kernel holds now, named as the desired state names it now. */
  recordKernel(table: readonly ActualService[]): void {
    const services: ServiceRow[] = [];
    const destinations: DestinationRow[] = [];
    for (const { service, destinations: dests } of table) {
      const id = serviceKeyString(service.key);
      const names = this.names(id);
      const labels = this.serviceLabels(id, names);
      services.push({ labels, stats: service.stats64 ?? service.stats });
      if (!this.perDestination) continue;
      for (const d of dests) {
        const pod = names?.pod(d.address) ?? '';
        destinations.push({ labels: { ...labels, destination: destinationKeyString(d), pod }, stats: d.stats64 ?? d.stats, destination: d });
      }
    }
    this.serviceRows = services;
    this.destinationRows = destinations;
    this.services.set(table.length);
  }

  private serviceLabels(id: string, names = this.names(id)): Readonly<Record<ServiceLabel, string>> {
    return { virtual_service: id, namespace: names?.namespace ?? '', service: names?.service ?? '', port: names?.port ?? '' };
  }
}
