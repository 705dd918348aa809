#!/usr/bin/env node
import { Command, InvalidArgumentError } from 'commander';
import { pino } from 'pino';
import { DEFAULT_HEAP_GROWING_PERCENT, limitHeapGrowth, runUntilSignal } from '@balanced/k8s';
import { startResolver, type ResolverConfig } from './app.js';
import { defaultCgroupRoot } from './cgroup-root.js';
import { DEFAULT_PIN_ROOT, ResolverPrograms } from './loader/resolver-programs.js';

const DEFAULT_METRICS_PORT = 9745;

function nonNegativeInt(value: string): number {
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError('must be a non-negative integer');
  return Number(value);
}

function positiveInt(value: string): number {
  if (!/^\d+$/.test(value) || Number(value) < 1) throw new InvalidArgumentError('must be a positive integer');
  return Number(value);
}

const program = new Command('balanced-cgroup-resolver')
  .description('Resolves Service addresses to backends at the socket layer (eBPF on cgroup connect/sendmsg/recvmsg/getpeername hooks): kube-proxy for traffic that starts on this host.')
  .option('--kubeconfig <path>', 'kubeconfig file (default: $KUBECONFIG, then in-cluster, then ~/.kube/config)')
  .option('--node-name <name>', 'this node (default $NODE_NAME); without it the resolver runs out of cluster: no node-local endpoints, no NodePorts', process.env.NODE_NAME)
  .option('--cgroup <path>', 'cgroup v2 directory to attach to (default: the cgroup v2 root of this host)')
  .option('--pin-root <path>', 'bpffs folder for the pinned maps and links', DEFAULT_PIN_ROOT)
  .option('--host-netns-only', 'resolve only in the host network namespace (pods keep their own path: service meshes, VMs in pods)', false)
  .option('--events', 'write resolution events to the ring buffer', false)
  .option('--no-terminate-sockets', 'do not close sockets whose backend left the service')
  .option('--resync-seconds <n>', 'full re-read and repair period', positiveInt, 60)
  .option('--metrics-host <host>', 'address for /healthz /readyz /metrics (loopback unless you ask: never on a Service or node address by default)', '127.0.0.1')
  .option('--metrics-port <port>', 'port for /healthz /readyz /metrics', positiveInt, DEFAULT_METRICS_PORT)
  .option('--detach', 'uninstall: unpin the links (detaching the programs) and the maps, then exit; resolution stops', false)
  .option('--log-level <level>', 'pino log level', 'info')
  .option('--heap-growing-percent <n>', 'V8 old-generation growth over the live heap between full GCs (0 = V8 default; see @balanced/k8s heap-tuning.ts)', nonNegativeInt, DEFAULT_HEAP_GROWING_PERCENT);

program.parse();
const o = program.opts<{
  kubeconfig?: string; nodeName?: string; cgroup?: string; pinRoot: string; hostNetnsOnly: boolean; events: boolean; terminateSockets: boolean;
  resyncSeconds: number; metricsHost: string; metricsPort: number; detach: boolean; logLevel: string; heapGrowingPercent: number;
}>();
limitHeapGrowth(o.heapGrowingPercent);
const log = pino({ level: o.logLevel, base: { component: 'cgroup-resolver' } });

if (o.detach) {
  ResolverPrograms.detach(o.pinRoot);
  log.info({ pinRoot: o.pinRoot }, 'detached: links and maps unpinned');
  process.exit(0);
}

const cgroupPath = o.cgroup ?? defaultCgroupRoot();
if (cgroupPath === undefined) {
  log.fatal('cgroup v2 is not mounted: give --cgroup <path> of a cgroup v2 directory');
  process.exit(2);
}
const nodeName = o.nodeName !== undefined && o.nodeName !== '' ? o.nodeName : undefined;
if (nodeName === undefined) log.info('no --node-name (or $NODE_NAME): running out of cluster');

const config: ResolverConfig = {
  ...(o.kubeconfig !== undefined ? { kubeconfig: o.kubeconfig } : {}),
  ...(nodeName !== undefined ? { nodeName } : {}),
  cgroupPath,
  pinRoot: o.pinRoot,
  hostNetnsOnly: o.hostNetnsOnly,
  events: o.events,
  terminateSockets: o.terminateSockets,
  resyncSeconds: o.resyncSeconds,
  metricsHost: o.metricsHost,
  metricsPort: o.metricsPort,
};

await runUntilSignal(() => startResolver(config, log), log, { shutdownMessage: 'shutting down; programs and maps stay pinned' });
