export { cgroupOwner, containerIdOf, type CgroupOwner } from './cgroup-paths.js';
export { CgroupIndex, type CgroupIndexOptions } from './cgroup-index.js';
export { clientOf, enrich, recordFields, recordLog, type EnrichLookups, type EventClient, type EventRecord } from './enrich.js';
export { ServiceDirectory, serviceOwner, type PlanIds, type ServiceOwner } from './service-directory.js';
export { EventsPipeline, type CgroupOwners, type EventSinks, type EventsMetricsPort, type EventsPipelineOptions } from './pipeline.js';
export { indexPods, PodDirectory, type PodIdentity, type PodSource } from './pod-directory.js';
export { podEventFields, podsOnNode } from './pod-fields.js';
export { LogLimiter, type LogLimitOptions } from './rate-limit.js';
export { RedisStreamSink, redisConnection, type RedisDropReason, type RedisSinkOptions } from './redis-sink.js';
export { RingReader, type RingReaderOptions } from './ring-reader.js';
export {
  DEFAULT_EVENTS_REDIS_QUEUE,
  DEFAULT_EVENTS_STREAM,
  DEFAULT_EVENTS_STREAM_MAXLEN,
  startEvents,
  type EventsConfig,
  type EventsDeps,
  type RunningEvents,
} from './start-events.js';
