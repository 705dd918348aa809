export {
  ANNOTATION_PREFIX,
  Annotations,
  BALANCED_D_ANNOTATION_PREFIX,
  BalanceDAnnotations,
  DEFAULT_SERVICE_CONFIG,
  FORWARDINGS,
  LOAD_BALANCER_CLASS,
  SCHEDULERS,
  SCHEDULER_FLAGS,
  annotationField,
  isOurs,
  parsePodConfig,
  parseServiceConfig,
  type BalancedScheduler,
  type BgpCommunity,
  type ConfigError,
  type Forwarding,
  type ParseResult,
  type PodConfig,
  type SchedulerFlag,
  type ServiceConfig,
  type ServiceConfigDefaults,
} from './annotations.js';
export {
  BALANCED_D_SCHEDULERS,
  LEGACY_TUNNEL_IGNORE,
  balanceDPoolReference,
  isCidrPoolReference,
  legacyTunnelIgnore,
  mapBalanceDScheduler,
  parseForDirectors,
  resolvePoolReference,
  type BalanceDPoolReference,
} from './balanced-compat.js';
export {
  SERVICE_NAME_LABEL,
  buildDesired,
  buildServiceDesired,
  canonicalCompare,
  endpointSliceServiceKey,
  endpointSlicePodRefs,
  resolveVipPortConflicts,
  type ServiceCandidate,
  type ServiceDesired,
  type ServiceDesiredInput,
  type DesiredDestination,
  type DesiredInput,
  type DesiredService,
  type DesiredState,
  type InvolvedObject,
  type Refusal,
  type TargetRef,
  type VirtualServiceKey,
} from './desired-state.js';
export type { ObjectRef } from './read.js';
export { desiredStateTransforms } from './desired-fields.js';
export { LAST_ACCEPTED_ANNOTATION, acceptedAnnotationsValue, asLastAccepted, buildKeepingLastGood, lastAcceptedPatch, type KeptServiceDesired } from './last-good.js';
export { LastAcceptedRecorder, type LastAcceptedResult } from './last-accepted-recorder.js';
export { keysStartingWith, project, type Shape } from './projection.js';
export {
  KubeConfigError,
  SERVICE_ACCOUNT_DIR,
  loadKubeConfig,
  type LoadKubeConfigOptions,
} from './kubeconfig.js';
export {
  DEFAULT_ERROR_GRACE_MS,
  DEFAULT_RELIST_INTERVAL_MS,
  VIPPOOL_GROUP,
  VIPPOOL_PATH,
  VIPPOOL_PLURAL,
  VIPPOOL_VERSION,
  DEFAULT_RESTART_DELAY_MS,
  WATCHED_KINDS,
  createClusterCache,
  type ChangeListener,
  type ObjectChange,
  type CacheTimers,
  type ClusterCache,
  type ClusterCacheOptions,
  type ClusterCacheStats,
  type ObjectTransform,
  type WatchedKind,
} from './cluster-cache.js';
export { INFORMER_ERRORS_METRIC, classifyInformerError, type CacheLog, type InformerErrorStreak } from './informer-errors.js';
export {
  EventRecorder,
  type EventObject,
  type EventRecorderOptions,
  type EventRecorderStats,
  type EventType,
} from './events.js';
export {
  combineProbes,
  startHealthServer,
  type HealthCheck,
  type HealthServer,
  type ProbeResult,
  type HealthServerOptions,
  type ReadyResult,
} from './health.js';
export { DEFAULT_LEASE_DURATION_SECONDS, DEFAULT_RENEW_DEADLINE_MS, DEFAULT_RETRY_PERIOD_MS, LeaderElector, type LeaderElectionTimers, type LeaderElectorOptions, type LeaderElectorStats } from './leader-election.js';
// The VIP ownership rule (one module for IP/CIDR text: @balanced/net), re-exported for the components built on this package.
export { cidrOwnership, InvalidCidrError } from '@balanced/net';
export { sameVipRanges, vipRangesFromPools, VipRangeWatch, type InvalidVipPool, type LastValidRanges, type VipRangeSet, type VipRangeWatchOptions } from './vip-ranges.js';
export { ADDRESSES_IN_USE_FINALIZER, LAST_VALID_CIDRS_ANNOTATION, isTerminating, readPoolCidrs, recordedPoolRanges, vipPoolUpkeep, type HeldAddress, type PoolCidrs, type VipPoolUpkeep } from './vippool-upkeep.js';
export { asArray, asBoolean, asPort, asRecord, asString, namespacedKey, prop, show, type Rec } from './read.js';
export { runUntilSignal, type Stoppable } from './run-until-signal.js';
export { DEFAULT_FAILURE_GRACE_MS, DEFAULT_STALL_MS, PassLoop, realTimers, type LoopTimers, type PassLoopOptions, type PassOutcome } from './pass-loop.js';
export { RefusalReporter, type EventSink, type ReportableRefusal } from './refusal-reporter.js';
export { collectGarbage, DEFAULT_HEAP_GROWING_PERCENT, DIRECTOR_NODE_OPTIONS, limitHeapGrowth } from './heap-tuning.js';
export { checkMetricsHost, checkMetricsHosts, DEFAULT_METRICS_HOST, MetricsHostError } from './metrics-host.js';
export { compactObject } from './compact.js';
