export { NAME_PATTERN, BirdSyntaxError, birdInteger, birdString, birdSymbol, isSafeBirdString } from './bird-syntax.js';
// VIP ranges are @balanced/net CIDRs; vipOwnership is its cidrOwnership under the name the cli uses.
export { cidrOwnership as vipOwnership } from '@balanced/net';
export { DEFAULT_BFD, announcerConfigFromObject, parseAnnouncerConfig, type AnnouncerConfig, type BfdConfig, type BirdRenderConfig, type NeighborConfig } from './config.js';
export { AnnouncerConfigError, type ConfigProblem } from './config-error.js';
export { expandEnvironment } from './environment.js';
export {
  BFD_PROTOCOL,
  EXPORT_FILTER,
  GENERATED_HEADER,
  PEER_PREFIX,
  STATIC_PROTOCOL,
  peerProtocolName,
  renderBirdConfig,
  renderableVips,
  type VipAnnouncement,
} from './render.js';
export {
  VIPPOOL_GROUP,
  VIPPOOL_PLURAL,
  VIPPOOL_VERSION,
  compareCommunities,
  parseCommunity,
  readVipPools,
  uniqueCommunities,
  type VipPoolView,
  type VipPools,
} from './vip-pools.js';
export {
  planAnnouncements,
  type Announcement,
  type AnnouncementInput,
  type AnnouncementPlan,
  type LastGood,
  type WithheldVip,
  type WithholdReason,
} from './announcements.js';
export { BirdError, isBirdError, type BirdErrorCode, type BirdErrorDetails } from './bird-errors.js';
export { BirdReplyReader, REPLY_CODES, isErrorCode, replyText, type BirdMessage, type BirdReply, type BirdReplyLine } from './bird-reply.js';
export { BirdClient, type BirdClientOptions, type BirdProtocolStatus, type BirdStatus, type ConfigureOutcome } from './bird-client.js';
export { PRIVATE_FILE_MODE, readTextIfExists, removeIfExists, restrictFileMode, writeFileAtomic } from './atomic-file.js';
export { DEFAULT_METRICS_HOST, MetricsHostError, checkMetricsHost } from '@balanced/k8s';
export { announcerTransforms, endpointServes, servingView } from './serving-view.js';
export {
  BirdConfigApplier,
  BirdConfigRejectedError,
  BirdNotIncludingError,
  type ApplyResult,
  type BirdApplierOptions,
  type BirdControl,
} from './bird-applier.js';
export { HealthGate, type ControllerProbe, type GateTimers, type HealthGateOptions, type ProbeResult } from './health-gate.js';
export { httpReadyProbe } from './http-probe.js';
export { VIPPOOL_PATH } from '@balanced/k8s';
export { describeReadiness, type ReadinessInput } from './readiness.js';
export { AnnouncerMetrics, type ReloadResult, type SessionState } from './metrics.js';
export { Announcer, type AnnouncerOptions, type LoopTimers, type PassReport, type RenderedState } from './announcer.js';
export { DEFAULT_CONTROLLER_READY_URL, DEFAULT_METRICS_PORT, startAnnouncer, type AnnouncerRunOptions, type RunningAnnouncer } from './app.js';
