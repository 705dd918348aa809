#!/usr/bin/env node
import { runUntilSignal } from '@balanced/k8s';
import { Command, InvalidArgumentError } from 'commander';
import { pino } from 'pino';

import { startWebhook, type WebhookConfig } from './app.js';

function nonNegativeInt(value: string): number {
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError('must be a non-negative integer');
  return Number(value);
}

const program = new Command('balanced-policy-webhook')
  .description('Admission webhook (AdmissionReview v1 over HTTPS) for LocalRedirectPolicy and BalancingPolicy: validates what the CRD\'s CEL rules cannot (frontend conflicts, port pairing, duplicates) and sets defaults.')
  .option('--kubeconfig <path>', 'kubeconfig file (default: $KUBECONFIG, then in-cluster, then ~/.kube/config)')
  .option('--host <host>', 'HTTPS address for /validate /mutate (and /healthz /readyz for probes)', '0.0.0.0')
  .option('--port <port>', 'HTTPS port', nonNegativeInt, 9443)
  .option('--cert-dir <dir>', 'directory with tls.crt and tls.key (a mounted kubernetes.io/tls Secret); reloaded when they change', '/etc/balanced/webhook-tls')
  .option('--cert-poll-seconds <n>', 're-read the certificate this often besides on file events (0 = events only)', nonNegativeInt, 30)
  .option('--metrics-host <host>', 'plain-HTTP address for /healthz /readyz /metrics', '127.0.0.1')
  .option('--metrics-port <port>', 'plain-HTTP port for /healthz /readyz /metrics', nonNegativeInt, 9746)
  .option('--log-level <level>', 'pino log level', 'info');

program.parse();
const o = program.opts<{ kubeconfig?: string; host: string; port: number; certDir: string; certPollSeconds: number; metricsHost: string; metricsPort: number; logLevel: string }>();
const log = pino({ level: o.logLevel, base: { component: 'policy-webhook' } });

const config: WebhookConfig = {
  ...(o.kubeconfig !== undefined ? { kubeconfig: o.kubeconfig } : {}),
  host: o.host,
  port: o.port,
  certDir: o.certDir,
  certPollMs: o.certPollSeconds * 1000,
  metricsHost: o.metricsHost,
  metricsPort: o.metricsPort,
};

await runUntilSignal(() => startWebhook(config, log), log);
