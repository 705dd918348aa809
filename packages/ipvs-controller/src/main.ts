#!/usr/bin/env node
import { Command, InvalidArgumentError, Option } from 'commander';
import { pino } from 'pino';
import { startController, type ControllerConfig } from './app.js';
import { DEFAULT_HEAP_GROWING_PERCENT, limitHeapGrowth, runUntilSignal } from '@balanced/k8s';

function positiveInt(value: string): number {
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError('must be a non-negative integer');
  return Number(value);
}

const program = new Command('balanced-ipvs-controller')
  .description('Programs kernel IPVS on this director from LoadBalancer Services and EndpointSlices (mh, IPIP DSR).')
  .option('--kubeconfig <path>', 'kubeconfig file (default: $KUBECONFIG, then in-cluster, then ~/.kube/config)')
  .option('--vip-cidr <cidr...>', 'VIP ranges this director owns; nothing outside them is touched', [])
  .option('--vip-interface <name>', 'dummy interface that holds the VIPs', 'balanced0')
  .option('--default-class', 'also take LoadBalancer Services without spec.loadBalancerClass', false)
  .addOption(new Option('--networking <mode>', 'host: run in the node namespace; pod: in the pod namespace').choices(['host', 'pod']).default('host'))
  .option('--netns <path>', 'program this network namespace instead of our own (e.g. /run/netns/director)')
  .option('--resync-seconds <n>', 'full re-read and repair period', positiveInt, 60)
  .option('--drain-seconds <n>', 'default drain period for leaving destinations', positiveInt, 30)
  .option('--metrics-host <host>', 'address for /healthz /readyz /metrics', '0.0.0.0')
  .option('--metrics-port <port>', 'port for /healthz /readyz /metrics', positiveInt, 9742)
  .option('--no-sysctls', 'do not set the director sysctls')
  .option('--no-notrack', 'do not install raw-table NOTRACK rules for the VIP CIDRs')
  .option('--log-level <level>', 'pino log level', 'info')
  .option('--heap-growing-percent <n>', 'V8 old-generation growth over the live heap between full GCs (0 = V8 default; see @balanced/k8s heap-tuning.ts)', positiveInt, DEFAULT_HEAP_GROWING_PERCENT);

program.parse();
const o = program.opts<{
  kubeconfig?: string; vipCidr: string[]; vipInterface: string; defaultClass: boolean; networking: 'host' | 'pod'; netns?: string;
  resyncSeconds: number; drainSeconds: number; metricsHost: string; metricsPort: number; sysctls: boolean; notrack: boolean; logLevel: string;
  heapGrowingPercent: number;
}>();
limitHeapGrowth(o.heapGrowingPercent);
const log = pino({ level: o.logLevel, base: { component: 'ipvs-controller' } });
if (o.vipCidr.length === 0) log.warn('no --vip-cidr given: this director owns no VIPs and will program nothing');

const config: ControllerConfig = {
  ...(o.kubeconfig !== undefined ? { kubeconfig: o.kubeconfig } : {}),
  ...(o.netns !== undefined ? { netns: o.netns } : {}),
  vipCidrs: o.vipCidr,
  vipInterface: o.vipInterface,
  defaultClass: o.defaultClass,
  networking: o.networking,
  resyncSeconds: o.resyncSeconds,
  drainSeconds: o.drainSeconds,
  metricsHost: o.metricsHost,
  metricsPort: o.metricsPort,
  sysctls: o.sysctls,
  notrack: o.notrack,
};

await runUntilSignal(() => startController(config, log), log);
