#!/usr/bin/env node
import { Command, InvalidArgumentError } from 'commander';
import { pino } from 'pino';
import { DEFAULT_HEAP_GROWING_PERCENT, runUntilSignal } from '@balanced/k8s';
import { startResolver, type ResolverConfig } from './app.js';
import { defaultCgroupRoot } from './cgroup-root.js';
import { DEFAULT_PIN_ROOT, ResolverPrograms } from './loader/resolver-programs.js';
import { DEFAULT_EVENTS_REDIS_QUEUE, DEFAULT_EVENTS_STREAM, DEFAULT_EVENTS_STREAM_MAXLEN, type EventsConfig } from './events/index.js';

const DEFAULT_METRICS_PORT = 9745;

function nonNegativeInt(value: string): number {
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError('must be a non-negative integer');
  return Number(value);
}

function positiveInt(value: string): number {
  if (!/^\d+$/.test(value) || Number(value) < 1) throw new InvalidArgumentError('must be a positive integer');
  return Number(value);
}

function fraction(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n < 0 || n > 1) throw new InvalidArgumentError('must be a number from 0 to 1');
  return n;
}

function redisUrl(value: string): string {
  if (!/^(rediss?|unix):\/\//.test(value)) throw new InvalidArgumentError('must be redis://host:port[/db], rediss://… or unix:///path/to/redis.sock');
  return value;
}

const program = new Command('balanced-cgroup-resolver')
  .description('Resolves Service addresses to backends at the socket layer (eBPF on cgroup connect/sendmsg/recvmsg/getpeername hooks): kube-proxy for traffic that starts on this host.')
  .option('--kubeconfig <path>', 'kubeconfig file (default: $KUBECONFIG, then in-cluster, then ~/.kube/config)')
  .option('--node-name <name>', 'this node (default $NODE_NAME); without it the resolver runs out of cluster: no node-local endpoints, no NodePorts', process.env.NODE_NAME)
  .option('--cgroup <path>', 'cgroup v2 directory to attach to (default: the cgroup v2 root of this host)')
  .option('--pin-root <path>', 'bpffs folder for the pinned maps and links', DEFAULT_PIN_ROOT)
  .option('--host-netns-only', 'resolve only in the host network namespace (pods keep their own path: service meshes, VMs in pods)', false)
  .option('--events', 'write resolution events to the ring buffer and read them (counters; log lines and a Redis stream with the flags below)', false)
  .option('--events-log-rate <n>', 'resolution events logged (pino JSON lines) per second at most; 0 = none', nonNegativeInt, 0)
  .option('--events-log-sample <fraction>', 'share of resolution events considered for a log line (before the rate limit)', fraction, 1)
  .option('--events-redis-url <url>', 'also write resolution events to a Redis stream (redis://host:port[/db], rediss://…, unix:///path)', redisUrl)
  .option('--events-stream <key>', 'Redis stream key for resolution events', DEFAULT_EVENTS_STREAM)
  .option('--events-stream-maxlen <n>', 'cap of the stream (XADD MAXLEN ~ n)', positiveInt, DEFAULT_EVENTS_STREAM_MAXLEN)
  .option('--events-redis-queue <n>', 'events held while Redis is slow or away; beyond that they are dropped (and counted)', positiveInt, DEFAULT_EVENTS_REDIS_QUEUE)
  .option('--no-terminate-sockets', 'do not close sockets whose backend left the service')
  .option('--resync-seconds <n>', 'full re-read and repair period', positiveInt, 60)
  .option('--metrics-host <host>', 'address for /healthz /readyz /metrics (loopback unless you ask: never on a Service or node address by default)', '127.0.0.1')
  .option('--metrics-port <port>', 'port for /healthz /readyz /metrics', positiveInt, DEFAULT_METRICS_PORT)
  .option('--status-namespace <namespace>', 'namespace of the Lease that elects the one agent writing LocalRedirectPolicy/BalancingPolicy status (default $POD_NAMESPACE; none: this agent never writes status)', process.env.POD_NAMESPACE)
  .option('--detach', 'uninstall: unpin the links (detaching the programs) and the maps, then exit; resolution stops', false)
  .option('--log-level <level>', 'pino log level', 'info')
  .option('--heap-growing-percent <n>', 'V8 old-generation growth over the live heap between full GCs, from the end of the first pass on (0 = V8 default; see @balanced/k8s heap-tuning.ts)', nonNegativeInt, DEFAULT_HEAP_GROWING_PERCENT);

program.parse();
const o = program.opts<{
  kubeconfig?: string; nodeName?: string; cgroup?: string; pinRoot: string; hostNetnsOnly: boolean; events: boolean; terminateSockets: boolean;
  eventsLogRate: number; eventsLogSample: number; eventsRedisUrl?: string; eventsStream: string; eventsStreamMaxlen: number; eventsRedisQueue: number;
  resyncSeconds: number; metricsHost: string; metricsPort: number; statusNamespace?: string; detach: boolean; logLevel: string; heapGrowingPercent: number;
}>();
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

const eventsOutput: EventsConfig = {
  log: { sample: o.eventsLogSample, perSecond: o.eventsLogRate },
  ...(o.eventsRedisUrl !== undefined ? { redis: { url: o.eventsRedisUrl, stream: o.eventsStream, maxLen: o.eventsStreamMaxlen, queueLimit: o.eventsRedisQueue } } : {}),
};
if (!o.events && (o.eventsRedisUrl !== undefined || o.eventsLogRate > 0)) log.warn('--events-log-rate / --events-redis-url have no effect without --events');

const config: ResolverConfig = {
  ...(o.kubeconfig !== undefined ? { kubeconfig: o.kubeconfig } : {}),
  ...(nodeName !== undefined ? { nodeName } : {}),
  cgroupPath,
  pinRoot: o.pinRoot,
  hostNetnsOnly: o.hostNetnsOnly,
  events: o.events,
  eventsOutput,
  terminateSockets: o.terminateSockets,
  resyncSeconds: o.resyncSeconds,
  heapGrowingPercent: o.heapGrowingPercent,
  metricsHost: o.metricsHost,
  metricsPort: o.metricsPort,
  // Status is written by agents in the cluster only (a host outside it has no Lease namespace).
  ...(nodeName !== undefined && o.statusNamespace !== undefined && o.statusNamespace !== '' ? { policyStatus: { namespace: o.statusNamespace } } : {}),
};

await runUntilSignal(() => startResolver(config, log), log, { shutdownMessage: 'shutting down; programs and maps stay pinned' });
