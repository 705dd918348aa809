#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { Command, InvalidArgumentError } from 'commander';
import { pino } from 'pino';
import { DEFAULT_CONTROLLER_READY_URL, DEFAULT_METRICS_PORT, startAnnouncer } from './app.js';
import { cidrOwnership } from '@balanced/net';
import { DEFAULT_METRICS_HOST, MetricsHostError, checkMetricsHost } from '@balanced/k8s';
import { AnnouncerConfigError } from './config-error.js';
import { parseAnnouncerConfig, type AnnouncerConfig } from './config.js';

function nonNegativeInt(value: string): number {
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError('must be a non-negative integer');
  return Number(value);
}

function positiveInt(value: string): number {
  const n = nonNegativeInt(value);
  if (n === 0) throw new InvalidArgumentError('must be at least 1');
  return n;
}

const program = new Command('balanced-vip-announcer')
  .description("Announces this director's healthy VIPs over BGP: renders a BIRD 2 file and reloads BIRD through its control socket.")
  .requiredOption('--config <path>', 'announcer config (YAML; ${NAME} expands from the environment): localAsn, routerId, cidrs (optional extra VIP ranges), neighbors, bfd, outputFile, birdSocket, birdConfig')
  .option('--kubeconfig <path>', 'kubeconfig file (default: $KUBECONFIG, then in-cluster, then ~/.kube/config)')
  .option('--default-class', 'also take LoadBalancer Services without spec.loadBalancerClass (match the ipvs-controller)', false)
  .option('--controller-ready-url <url>', "this director's ipvs-controller /readyz", DEFAULT_CONTROLLER_READY_URL)
  .option('--probe-interval-ms <n>', 'how often to probe the ipvs-controller', positiveInt, 1000)
  .option('--probe-timeout-ms <n>', 'give up on one probe after this long', positiveInt, 1000)
  .option('--failure-threshold <n>', 'failed probes in a row before every VIP is withdrawn', positiveInt, 3)
  .option('--resync-seconds <n>', 're-check the file and BIRD this often', positiveInt, 60)
  .option('--bird-timeout-ms <n>', 'timeout of one BIRD command', positiveInt, 10_000)
  .option('--no-vip-pools', 'do not watch VipPools: the VIP ranges are then the config\'s cidrs only, and no pool communities')
  .option(
    '--metrics-host <ip>',
    "address for /healthz /readyz /metrics (default: $METRICS_HOST, else loopback 127.0.0.1); give loopback or the node's own address (e.g. $(NODE_IP) from the downward API's status.hostIP); a wildcard (0.0.0.0, ::) or an address inside the VIP CIDRs is refused, since in host networking it would answer on every VIP",
    process.env['METRICS_HOST'] || DEFAULT_METRICS_HOST,
  )
  .option('--metrics-port <port>', 'port for /healthz /readyz /metrics', nonNegativeInt, DEFAULT_METRICS_PORT)
  .option('--check-config', 'validate --config and exit')
  .option('--log-level <level>', 'pino log level', 'info');

program.parse();
const o = program.opts<{
  config: string; kubeconfig?: string; defaultClass: boolean; controllerReadyUrl: string; probeIntervalMs: number; probeTimeoutMs: number;
  failureThreshold: number; resyncSeconds: number; birdTimeoutMs: number; vipPools: boolean; metricsHost: string; metricsPort: number;
  checkConfig?: boolean; logLevel: string;
}>();
const log = pino({ level: o.logLevel, base: { component: 'vip-announcer' } });

let config: AnnouncerConfig;
try {
  config = parseAnnouncerConfig(readFileSync(o.config, 'utf8'), process.env);
} catch (e) {
  log.fatal({ problems: e instanceof AnnouncerConfigError ? e.problems : undefined }, e instanceof Error ? e.message : String(e));
  process.exit(2);
}
try {
  checkMetricsHost(o.metricsHost, cidrOwnership(config.cidrs));
} catch (e) {
  if (!(e instanceof MetricsHostError)) throw e;
  log.fatal(e.message);
  process.exit(2);
}
if (o.checkConfig) {
  log.info({ config: o.config }, 'config OK');
  process.exit(0);
}

try {
  const running = await startAnnouncer(
    {
      config,
      ...(o.kubeconfig !== undefined ? { kubeconfig: o.kubeconfig } : {}),
      defaultClass: o.defaultClass,
      controllerReadyUrl: o.controllerReadyUrl,
      probeIntervalMs: o.probeIntervalMs,
      probeTimeoutMs: o.probeTimeoutMs,
      failureThreshold: o.failureThreshold,
      resyncSeconds: o.resyncSeconds,
      birdTimeoutMs: o.birdTimeoutMs,
      watchPools: o.vipPools,
      metricsHost: o.metricsHost,
      metricsPort: o.metricsPort,
    },
    log,
  );
  let stopping = false;
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.on(signal, () => {
      if (stopping) return;
      stopping = true;
      log.info({ signal }, 'withdrawing every VIP, then exiting');
      running.shutdown().then(
        () => process.exit(0),
        (e: unknown) => {
          log.error({ err: e instanceof Error ? e.message : String(e) }, 'could not withdraw through BIRD (the file holds no VIP: BIRD withdraws when it next reads it)');
          process.exit(1);
        },
      );
    });
  }
} catch (e) {
  log.fatal({ err: e instanceof Error ? e.message : String(e) }, 'cannot start');
  process.exit(1);
}
