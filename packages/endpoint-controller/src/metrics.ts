import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { PassReport, PodOutcome } from './controller.js';

/** Prometheus metrics of one node's endpoint-controller. */
export class EndpointMetrics {
  readonly registry = new Registry();
  private readonly passes = new Counter({ name: 'balanced_endpoint_passes_total', help: 'Reconcile passes', registers: [this.registry] });
  private readonly duration = new Histogram({
    name: 'balanced_endpoint_pass_duration_seconds',
    help: 'Duration of a reconcile pass',
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [this.registry],
  });
  private readonly programmed = new Gauge({ name: 'balanced_endpoint_pods_programmed', help: 'Pods on this node whose tunl0 holds their VIPs', registers: [this.registry] });
  private readonly failing = new Gauge({ name: 'balanced_endpoint_pods_failing', help: 'Pods on this node whose last attempt failed (retried with backoff)', registers: [this.registry] });
  private readonly vips = new Gauge({ name: 'balanced_endpoint_vips_configured', help: 'VIP addresses held on tunl0 across the pods of this node', registers: [this.registry] });
  private readonly skipped = new Gauge({
    name: 'balanced_endpoint_pods_skipped',
    help: 'Pods left alone although they back a balanced Service, by reason',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });
  private readonly errors = new Counter({ name: 'balanced_endpoint_errors_total', help: 'Failed attempts to program a pod, by reason', labelNames: ['reason'] as const, registers: [this.registry] });
  private readonly ops = new Counter({ name: 'balanced_endpoint_operations_total', help: 'Changes made in pod namespaces, by kind', labelNames: ['op'] as const, registers: [this.registry] });

  recordPod(outcome: PodOutcome): void {
    if (outcome.kind === 'failed') this.errors.inc({ reason: outcome.error.reason });
    else for (const op of outcome.result.ops) this.ops.inc({ op: op.op });
  }

  recordPass(report: PassReport): void {
    this.passes.inc();
    this.duration.observe(report.durationMs / 1000);
    this.programmed.set(report.pods.programmed);
    this.failing.set(report.pods.failing);
    this.vips.set(report.pods.vips);
    this.skipped.reset();
    for (const s of report.skipped) this.skipped.inc({ reason: s.reason });
  }
}
