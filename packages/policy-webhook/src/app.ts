// Wiring: the one cluster cache (both policy kinds), the certificate watch, the HTTPS
// admission server and the plain-HTTP /healthz /readyz /metrics server. The decisions are
// in review.ts.

import type { KubeConfig } from '@kubernetes/client-node';
import { createClusterCache, loadKubeConfig, startHealthServer, type ClusterCache, type HealthServer, type ProbeResult } from '@balanced/k8s';
import type { Logger } from 'pino';

import type { AdmissionRequest } from './admission-review.js';
import { CertificateWatch, readKeyPair, type KeyPair } from './certificates.js';
import { WebhookMetrics } from './metrics.js';
import { mutate, validate, type Decision } from './review.js';
import { startWebhookServer, type WebhookServer } from './server.js';

export const COMPONENT = 'balanced-policy-webhook';

export interface WebhookConfig {
  readonly kubeconfig?: string;
  /** Use this KubeConfig instead of loading one (embedding, tests). */
  readonly kubeConfig?: KubeConfig;
  /** HTTPS address the API server calls. */
  readonly host: string;
  /** 0 = any free port (see RunningWebhook.webhook.url). */
  readonly port: number;
  /** Directory holding tls.crt and tls.key (a mounted kubernetes.io/tls Secret). */
  readonly certDir: string;
  /** Re-read the certificate this often besides on file events (default 30 000; 0 = events only). */
  readonly certPollMs?: number;
  /** Plain HTTP /healthz /readyz /metrics; 127.0.0.1 unless a scraper needs it elsewhere. */
  readonly metricsHost: string;
  readonly metricsPort: number;
  /** Informer restart backoff (default 1 → 30 s); tests shorten it. */
  readonly restartDelayMs?: { readonly min: number; readonly max: number };
}

export interface RunningWebhook {
  readonly webhook: WebhookServer;
  readonly health: HealthServer;
  readonly metrics: WebhookMetrics;
  readonly cache: ClusterCache;
  /** The certificate being served. */
  keyPair(): KeyPair;
  stop(): Promise<void>;
}

const NOT_SYNCED: Decision = {
  verdict: { allowed: false, code: 503, reason: 'ServiceUnavailable', message: 'the policy webhook has not listed the existing policies yet, so it cannot check for frontend conflicts: retry in a few seconds' },
};

export async function startWebhook(config: WebhookConfig, log: Logger): Promise<RunningWebhook> {
  const kc = config.kubeConfig ?? loadKubeConfig(config.kubeconfig !== undefined ? { kubeconfig: config.kubeconfig } : {});
  const metrics = new WebhookMetrics();
  let pair = readKeyPair(config.certDir); // a missing or broken pair at start is fatal: nothing to serve
  metrics.recordReload(true, pair.notAfter);
  log.info({ certDir: config.certDir, notAfter: new Date(pair.notAfter).toISOString() }, 'serving certificate loaded');

  const restart = config.restartDelayMs !== undefined ? { restartDelayMs: { ...config.restartDelayMs } } : {};
  const cache = createClusterCache(kc, { kinds: ['localredirectpolicies', 'balancingpolicies'], log, ...restart });
  const existing = (): unknown[] => [...cache.localRedirectPolicies(), ...cache.balancingPolicies()];
  cache.onChange(() => {
    metrics.setCachedPolicies('LocalRedirectPolicy', cache.localRedirectPolicies().length);
    metrics.setCachedPolicies('BalancingPolicy', cache.balancingPolicies().length);
  });

  const logDenial = (request: AdmissionRequest, decision: Decision, endpoint: string): Decision => {
    if (!decision.verdict.allowed) log.info({ endpoint, kind: request.kind.kind, name: request.name, operation: request.operation, dryRun: request.dryRun }, decision.verdict.message);
    return decision;
  };
  const webhook = await startWebhookServer({
    host: config.host,
    port: config.port,
    keyPair: pair,
    validate: (request) => logDenial(request, cache.synced() ? validate(request, existing()) : NOT_SYNCED, 'validate'),
    mutate: (request) => logDenial(request, mutate(request), 'mutate'),
    ready: () => cache.readiness(),
    metrics,
  });

  const certs = new CertificateWatch(pair, {
    dir: config.certDir,
    ...(config.certPollMs !== undefined ? { pollMs: config.certPollMs } : {}),
    onLoad: (next) => {
      webhook.useKeyPair(next);
      pair = next;
      metrics.recordReload(true, next.notAfter);
      log.info({ notAfter: new Date(next.notAfter).toISOString() }, 'serving certificate reloaded');
    },
    onError: (err) => {
      metrics.recordReload(false);
      log.warn({ err: err.message }, 'serving certificate not reloaded (the previous one stays)');
    },
  });
  certs.start();

  let health: HealthServer;
  try {
    health = await startHealthServer({ host: config.metricsHost, port: config.metricsPort, registry: metrics.registry, checks: [cache], ready: (): ProbeResult => ({ ok: true }) });
  } catch (err) {
    certs.stop();
    await webhook.close();
    throw err;
  }
  void cache.start().then(
    () => log.info('policies listed; admitting'),
    () => undefined, // stopped first
  );

  let stopped: Promise<void> | undefined;
  return {
    webhook,
    health,
    metrics,
    cache,
    keyPair: () => pair,
    stop: () =>
      (stopped ??= (async () => {
        certs.stop();
        await webhook.close();
        await cache.stop();
        await health.close();
      })()),
  };
}
