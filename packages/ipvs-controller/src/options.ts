import { Command, InvalidArgumentError, Option } from 'commander';
import { DEFAULT_HEAP_GROWING_PERCENT } from '@balanced/k8s';
import type { ControllerConfig } from './app.js';
import { DEFAULT_METRICS_HOST } from '@balanced/k8s';

function bool(value: string): boolean {
  if (value === 'true') return true;
  if (value === 'false') return false;
  throw new InvalidArgumentError('must be true or false');
}

function positiveInt(value: string): number {
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError('must be a non-negative integer');
  return Number(value);
}

export interface ParsedOptions {
  readonly config: ControllerConfig;
  readonly logLevel: string;
  readonly heapGrowingPercent: number;
}

/** The command line of balanced-ipvs-controller (flags → ControllerConfig). */
export function controllerCommand(): Command {
  return new Command('balanced-ipvs-controller')
    .description('Programs kernel IPVS on this director from LoadBalancer Services and EndpointSlices (mh, IPIP DSR).')
    .option('--kubeconfig <path>', 'kubeconfig file (default: $KUBECONFIG, then in-cluster, then ~/.kube/config)')
    .option(
      '--vip-cidr <cidr...>',
      'extra VIP ranges this director owns, on top of the VipPools\' (optional; deprecated as the only source: the VipPools are read by default). ' +
        'Nothing outside the VIP ranges is touched',
      [],
    )
    .option('--no-vip-pools', 'do not read VIP ranges from the VipPools (balanced.dev/v1alpha1): own only --vip-cidr (a cluster without the VipPool CRD)')
    .option('--vip-interface <name>', 'dummy interface that holds the VIPs', 'balanced0')
    .option('--default-class', 'also take LoadBalancer Services without spec.loadBalancerClass', false)
    .addOption(new Option('--networking <mode>', 'host: run in the node namespace; pod: in the pod namespace').choices(['host', 'pod']).default('host'))
    .option('--netns <path>', 'program this network namespace instead of our own (e.g. /run/netns/director)')
    .option('--resync-seconds <n>', 'full re-read and repair period', positiveInt, 60)
    .option('--drain-seconds <n>', 'default drain period for leaving destinations', positiveInt, 30)
    .option(
      '--metrics-host <address...>',
      'addresses for /healthz /readyz /metrics (repeatable). Default: loopback only. Add the node\'s own address ' +
        '(downward API status.hostIP, e.g. --metrics-host=$(NODE_IP)) for kubelet probes and Prometheus. ' +
        'Never a wildcard or a VIP: a director holds every VIP, so 0.0.0.0 would answer on all of them (refused at start)',
      [DEFAULT_METRICS_HOST],
    )
    .option('--metrics-port <port>', 'port for /healthz /readyz /metrics', positiveInt, 9742)
    .addOption(
      new Option(
        '--metrics-per-destination [bool]',
        'export per-destination series (weight, connections, packets, bytes by pod: 6 per destination); ' +
          '=false keeps only the per-Service-port series (5 per virtual service). See docs/metrics.md for the series count',
      )
        .argParser(bool)
        .preset('true')
        .default(true),
    )
    .option('--no-sysctls', 'do not set the director sysctls')
    .option('--no-notrack', 'do not install raw-table NOTRACK rules for the VIP CIDRs')
    .option('--log-level <level>', 'pino log level', 'info')
    .option('--heap-growing-percent <n>', 'V8 old-generation growth over the live heap between full GCs (0 = V8 default; see @balanced/k8s heap-tuning.ts)', positiveInt, DEFAULT_HEAP_GROWING_PERCENT);
}

/** Parse user arguments (no program name). Throws on bad flags when `exitOverride` is set by the caller. */
export function parseControllerArgs(argv: readonly string[], command: Command = controllerCommand()): ParsedOptions {
  command.parse([...argv], { from: 'user' });
  const o = command.opts<{
    kubeconfig?: string; vipCidr: string[]; vipPools: boolean; vipInterface: string; defaultClass: boolean; networking: 'host' | 'pod'; netns?: string;
    resyncSeconds: number; drainSeconds: number; metricsHost: string[]; metricsPort: number; metricsPerDestination: boolean; sysctls: boolean; notrack: boolean; logLevel: string;
    heapGrowingPercent: number;
  }>();
  const config: ControllerConfig = {
    ...(o.kubeconfig !== undefined ? { kubeconfig: o.kubeconfig } : {}),
    ...(o.netns !== undefined ? { netns: o.netns } : {}),
    vipCidrs: o.vipCidr,
    vipPools: o.vipPools,
    vipInterface: o.vipInterface,
    defaultClass: o.defaultClass,
    networking: o.networking,
    resyncSeconds: o.resyncSeconds,
    drainSeconds: o.drainSeconds,
    metricsHost: o.metricsHost,
    metricsPort: o.metricsPort,
    metricsPerDestination: o.metricsPerDestination,
    sysctls: o.sysctls,
    notrack: o.notrack,
  };
  return { config, logLevel: o.logLevel, heapGrowingPercent: o.heapGrowingPercent };
}
