// Wires the events path together: ring reader → pipeline → log lines, Redis stream, counters.
import type { Logger } from 'pino';
import { CgroupIndex } from './cgroup-index.js';
import type { EventRecord } from './enrich.js';
import { ServiceDirectory } from './service-directory.js';
import { EventsPipeline, type EventSinks, type EventsMetricsPort } from './pipeline.js';
import { PodDirectory, type PodSource } from './pod-directory.js';
import { batchLines } from './log-batch.js';
import { LogLimiter } from './rate-limit.js';
import { RedisStreamSink } from './redis-sink.js';
import { RingReader } from './ring-reader.js';

export const DEFAULT_EVENTS_STREAM = 'balanced:resolver:events';
export const DEFAULT_EVENTS_STREAM_MAXLEN = 100_000;
export const DEFAULT_EVENTS_REDIS_QUEUE = 10_000;

export interface EventsConfig {
  /** Share of events considered for a log line (0..1) and lines per second at most (0 = no log lines). */
  readonly log: { readonly sample: number; readonly perSecond: number };
  /** Absent: no Redis stream. */
  readonly redis?: { readonly url: string; readonly stream: string; readonly maxLen: number; readonly queueLimit: number };
}

export interface EventsDeps {
  /** fd of the pinned bd_events ring buffer (ResolverMaps.fd('bd_events')). */
  readonly ringFd: number;
  /** cgroup v2 directory walked to name clients (the one the programs attach to). */
  readonly cgroupRoot: string;
  /** This node's pods (the cluster cache); absent out of cluster: every client is `host`. */
  readonly pods?: PodSource;
  readonly metrics: EventsMetricsPort & { redisConnected(up: boolean): void };
  readonly log: Logger;
  /** Every record handed to the sinks (tests, the bench). */
  readonly onRecord?: (r: EventRecord) => void;
}

export interface RunningEvents {
  readonly pipeline: EventsPipeline;
  /** Feed it the agent's plans (onPass: report.plan). */
  readonly services: ServiceDirectory;
  /** Mark pods changed (cache.onChange for kind `pods`). */
  podsChanged(): void;
  readonly redis: RedisStreamSink | undefined;
  close(): Promise<void>;
}

const NO_PODS: PodSource = { pods: () => [] };

export function startEvents(config: EventsConfig, deps: EventsDeps): RunningEvents {
  const services = new ServiceDirectory();
  const pods = new PodDirectory(deps.pods ?? NO_PODS);
  const eventLog = deps.log.child({ events: 'resolution' });
  const lines = batchLines(eventLog);
  let redis: RedisStreamSink | undefined;
  if (config.redis !== undefined) {
    const r = config.redis;
    let lastWarn = 0;
    redis = new RedisStreamSink({
      ...r,
      onWritten: (n) => deps.metrics.redisWritten(n),
      onDropped: (n, reason) => deps.metrics.redisDropped(n, reason),
      onState: (state, detail) => {
        deps.metrics.redisConnected(state === 'ready');
        const now = Date.now();
        if (state === 'ready') deps.log.info({ stream: r.stream }, 'events: Redis connected');
        else if (now - lastWarn > 10_000) {
          lastWarn = now;
          deps.log.warn({ err: detail }, 'events: Redis unreachable; events queue up to the limit, then are dropped and counted; reconnecting');
        }
      },
    });
  }
  const limiter = new LogLimiter(config.log);
  const sinks: EventSinks = {
    ...(config.log.perSecond > 0
      ? { log: { admit: () => limiter.admit(), write: (fields: Record<string, unknown>) => eventLog.info(fields, 'resolution'), flush: () => lines?.flush() } }
      : {}),
    ...(redis !== undefined ? { redis } : {}),
  };
  const pipeline = new EventsPipeline({
    owners: new CgroupIndex({ root: deps.cgroupRoot }),
    lookups: {
      service: (id) => services.get(id),
      pod: (uid) => pods.get(uid),
    },
    sinks,
    metrics: deps.metrics,
    ...(deps.onRecord !== undefined ? { onRecord: deps.onRecord } : {}),
  });
  const reader = new RingReader({
    mapFd: deps.ringFd,
    onRecord: (bytes) => pipeline.record(bytes),
    onBatch: () => pipeline.batch(),
    onError: (e) => deps.log.error({ err: e.message }, 'events: reading the ring buffer failed; no more resolution events until restart'),
  });
  reader.start();
  return {
    pipeline,
    services,
    podsChanged: () => pods.markStale(),
    redis,
    async close() {
      await reader.close();
      await pipeline.idle();
      lines?.flush();
      await redis?.close();
    },
  };
}
