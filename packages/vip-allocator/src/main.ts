#!/usr/bin/env node
import { existsSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';

import { runUntilSignal, SERVICE_ACCOUNT_DIR } from '@balanced/k8s';
import { Command, InvalidArgumentError } from 'commander';
import { pino } from 'pino';

import { startAllocator, type AllocatorConfig } from './app.js';

function nonNegativeInt(value: string): number {
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError('must be a non-negative integer');
  return Number(value);
}

function positiveSeconds(value: string): number {
  const n = Number(value);
  if (!/^\d+(\.\d+)?$/.test(value) || !(n > 0)) throw new InvalidArgumentError('must be a positive number of seconds');
  return n;
}

/** The pod's namespace: $POD_NAMESPACE, else the service-account mount, else balanced-system. */
function ownNamespace(): string {
  const fromEnv = process.env['POD_NAMESPACE'];
  if (fromEnv) return fromEnv;
  const file = `${SERVICE_ACCOUNT_DIR}/namespace`;
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  return 'balanced-system';
}

const program = new Command('balanced-vip-allocator')
  .description('Assigns LoadBalancer addresses from VipPools to Services (status.loadBalancer.ingress); leader-elected, run two replicas.')
  .option('--kubeconfig <path>', 'kubeconfig file (default: $KUBECONFIG, then in-cluster, then ~/.kube/config)')
  .option('--namespace <ns>', 'namespace of the leader-election Lease (default: $POD_NAMESPACE, the service account\'s, else balanced-system)')
  .option('--lease-name <name>', 'name of the leader-election Lease', 'balanced-vip-allocator')
  .option('--identity <id>', 'this replica\'s identity in the Lease (default: $POD_NAME, else the hostname)')
  .option('--default-class', 'also serve LoadBalancer Services without spec.loadBalancerClass', false)
  .option('--resync-seconds <n>', 'the leader re-lists every Service this often', nonNegativeInt, 60)
  .option('--lease-duration-seconds <n>', 'how long others wait after the leader\'s last renewal', nonNegativeInt, 15)
  .option('--renew-deadline-seconds <s>', 'the leader steps down when it could not renew for this long', positiveSeconds, 10)
  .option('--retry-period-seconds <s>', 'time between Lease attempts', positiveSeconds, 2)
  .option('--metrics-host <host>', 'address for /healthz /readyz /metrics', '0.0.0.0')
  .option('--metrics-port <port>', 'port for /healthz /readyz /metrics', nonNegativeInt, 9743)
  .option('--log-level <level>', 'pino log level', 'info');

program.parse();
const o = program.opts<{
  kubeconfig?: string; namespace?: string; leaseName: string; identity?: string; defaultClass: boolean; resyncSeconds: number;
  leaseDurationSeconds: number; renewDeadlineSeconds: number; retryPeriodSeconds: number; metricsHost: string; metricsPort: number; logLevel: string;
}>();
const log = pino({ level: o.logLevel, base: { component: 'vip-allocator' } });

const config: AllocatorConfig = {
  ...(o.kubeconfig !== undefined ? { kubeconfig: o.kubeconfig } : {}),
  leaseNamespace: o.namespace ?? ownNamespace(),
  leaseName: o.leaseName,
  identity: o.identity ?? (process.env['POD_NAME'] || hostname()),
  defaultClass: o.defaultClass,
  resyncSeconds: Math.max(1, o.resyncSeconds),
  leaseDurationSeconds: o.leaseDurationSeconds,
  renewDeadlineSeconds: o.renewDeadlineSeconds,
  retryPeriodSeconds: o.retryPeriodSeconds,
  metricsHost: o.metricsHost,
  metricsPort: o.metricsPort,
};

await runUntilSignal(() => startAllocator(config, log), log, { shutdownMessage: 'shutting down (releasing the Lease)' });
