import { Counter, Gauge, Histogram, Registry } from 'prom-client';

import type { DenialReason } from './review.js';

export type Endpoint = 'validate' | 'mutate';
export type RequestResult = 'allowed' | 'denied' | 'bad_request' | 'error';

/** Prometheus metrics of one webhook replica. */
export class WebhookMetrics {
  readonly registry = new Registry();
  private readonly requests = new Counter({ name: 'balanced_policy_webhook_requests_total', help: 'AdmissionReview requests, by endpoint, kind, operation and result', labelNames: ['endpoint', 'kind', 'operation', 'result'] as const, registers: [this.registry] });
  private readonly denials = new Counter({ name: 'balanced_policy_webhook_denials_total', help: 'Refused policies, by reason (invalid, claimed)', labelNames: ['reason'] as const, registers: [this.registry] });
  private readonly duration = new Histogram({ name: 'balanced_policy_webhook_request_duration_seconds', help: 'Time to answer an AdmissionReview', labelNames: ['endpoint'] as const, buckets: [0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1], registers: [this.registry] });
  private readonly reloads = new Counter({ name: 'balanced_policy_webhook_certificate_reloads_total', help: 'Serving certificate loads from the Secret directory, by result (ok, failed)', labelNames: ['result'] as const, registers: [this.registry] });
  private readonly expiry = new Gauge({ name: 'balanced_policy_webhook_certificate_expiry_timestamp_seconds', help: 'notAfter of the certificate being served (Unix time)', registers: [this.registry] });
  private readonly policies = new Gauge({ name: 'balanced_policy_webhook_cached_policies', help: 'Policies in the cache the conflict check reads, by kind', labelNames: ['kind'] as const, registers: [this.registry] });

  recordRequest(endpoint: Endpoint, kind: string, operation: string, result: RequestResult, seconds: number, denial?: DenialReason): void {
    this.requests.inc({ endpoint, kind, operation, result });
    this.duration.observe({ endpoint }, seconds);
    if (denial !== undefined) this.denials.inc({ reason: denial });
  }

  recordReload(ok: boolean, notAfterMs?: number): void {
    this.reloads.inc({ result: ok ? 'ok' : 'failed' });
    if (ok && notAfterMs !== undefined) this.expiry.set(Math.floor(notAfterMs / 1000));
  }

  setCachedPolicies(kind: string, count: number): void {
    this.policies.set({ kind }, count);
  }
}
