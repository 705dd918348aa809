#!/usr/bin/env node
import { Command, InvalidArgumentError } from 'commander';
import { pino } from 'pino';
import { startEndpointController, type EndpointControllerConfig } from './app.js';
import { DEFAULT_CRI_SOCKETS } from './resolvers.js';
import { DEFAULT_METRICS_HOST, runUntilSignal } from '@balanced/k8s';

function positiveInt(value: string): number {
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError('must be a non-negative integer');
  return Number(value);
}

const program = new Command('balanced-endpoint-controller')
  .description("Puts the VIPs of balanced Services on tunl0 inside the network namespace of each backend pod on this node (IPIP DSR receive side).")
  .option('--kubeconfig <path>', 'kubeconfig file (default: $KUBECONFIG, then in-cluster, then ~/.kube/config)')
  .option('--node-name <name>', 'this node (default: $NODE_NAME, e.g. from the downward API)')
  .option(
    '--vip-cidr <cidr...>',
    'extra VIP ranges owned, on top of the VipPools\' (optional; deprecated as the only source: the VipPools are read by default); addresses outside the VIP ranges are never touched',
    [],
  )
  .option('--no-vip-pools', 'do not read VIP ranges from the VipPools (balanced.dev/v1alpha1): own only --vip-cidr (a cluster without the VipPool CRD)')
  .option('--default-class', 'also take LoadBalancer Services without spec.loadBalancerClass', false)
  .option('--cri-socket <path...>', `CRI runtime socket(s), first existing wins (default: ${DEFAULT_CRI_SOCKETS.join(', ')})`)
  .option('--no-cri', 'do not ask the CRI runtime; find namespaces by the /proc scan only')
  .option('--no-proc-scan', 'no /proc scan fallback')
  .option('--proc-root <path>', "the host's /proc (hostPID, or the host /proc mounted here)", '/proc')
  .option('--resync-seconds <n>', 'full re-read and repair period', positiveInt, 60)
  .option('--metrics-host <ip>', 'address for /healthz /readyz /metrics: loopback by default, or this node\'s own address (downward API status.hostIP); never a wildcard or a VIP (every node holds VIPs in host networking)', DEFAULT_METRICS_HOST)
  .option('--metrics-port <port>', 'port for /healthz /readyz /metrics', positiveInt, 9744)
  .option('--log-level <level>', 'pino log level', 'info');

program.parse();
const o = program.opts<{
  kubeconfig?: string; nodeName?: string; vipCidr: string[]; vipPools: boolean; defaultClass: boolean; criSocket?: string[]; cri: boolean; procScan: boolean;
  procRoot: string; resyncSeconds: number; metricsHost: string; metricsPort: number; logLevel: string;
}>();
const nodeName = o.nodeName ?? process.env['NODE_NAME'] ?? '';
const log = pino({ level: o.logLevel, base: { component: 'endpoint-controller', node: nodeName } });

const config: EndpointControllerConfig = {
  ...(o.kubeconfig !== undefined ? { kubeconfig: o.kubeconfig } : {}),
  nodeName,
  vipCidrs: o.vipCidr,
  vipPools: o.vipPools,
  defaultClass: o.defaultClass,
  criSockets: o.cri ? (o.criSocket ?? DEFAULT_CRI_SOCKETS) : [],
  procScan: o.procScan,
  procRoot: o.procRoot,
  resyncSeconds: o.resyncSeconds,
  metricsHost: o.metricsHost,
  metricsPort: o.metricsPort,
};

await runUntilSignal(() => startEndpointController(config, log), log);
