// BIRD announcer: startAnnouncer (the binary's wiring), its config parser, the pure announcement planner and BIRD config renderer, and a BIRD control-socket client.
export { startAnnouncer, type AnnouncerRunOptions, type RunningAnnouncer } from './app.js';
export { announcerConfigFromObject, parseAnnouncerConfig, type AnnouncerConfig, type BirdRenderConfig } from './config.js';
export { AnnouncerConfigError, type ConfigProblem } from './config-error.js';
export { readVipPools, type VipPools } from './vip-pools.js';
export {
  planAnnouncements,
  type Announcement,
  type AnnouncementInput,
  type AnnouncementPlan,
  type LastGood,
  type WithheldVip,
  type WithholdReason,
} from './announcements.js';
export { PEER_PREFIX, STATIC_PROTOCOL, renderBirdConfig, type VipAnnouncement } from './render.js';
export { BirdClient, type BirdClientOptions, type BirdProtocolStatus, type BirdStatus, type ConfigureOutcome } from './bird-client.js';
export { BirdError, type BirdErrorCode } from './bird-errors.js';
