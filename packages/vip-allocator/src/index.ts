export { allocate, type AllocateInput, type AllocationFailure, type AllocationPlan, type FailureReason, type OutsidePoolAddress, type PoolUsage, type StatusChange } from './allocate.js';
export { formatAddress, isBuggyIp, mergeRanges, parseAddress, parseRange, rangeCapacity, type Address, type AddressRange, type Family } from './address.js';
export { isEmptySelector, matchesSelector, parseLabelSelector, type LabelSelector, type SelectorOperator, type SelectorProblem, type SelectorRequirement } from './label-selector.js';
export {
  VIPPOOL_API_VERSION,
  VIPPOOL_GROUP,
  VIPPOOL_KIND,
  VIPPOOL_PLURAL,
  VIPPOOL_VERSION,
  describeProblems,
  parseVipPool,
  poolAllows,
  poolCapacity,
  poolContains,
  type PoolParse,
  type PoolProblem,
  type VipPool,
} from './pool.js';
export { PoolCatalog, type InvalidPool, type PoolCatalogSnapshot } from './pool-catalog.js';
export { describeService, type ConfigProblem, type DescribeOptions, type ServiceInput, type ServiceRole } from './service-input.js';
export { ServiceOverlay } from './overlay.js';
export { OncePerAppearance } from './once-per-appearance.js';
export { isRefusal, serviceStatusApi, statusMessage, type ServiceStatusApi, type StatusTarget, type WriteResult } from './status-api.js';
export { VIPPOOL_PATH } from '@balanced/k8s';
export { AllocatorMetrics } from './metrics.js';
export {
  ADDRESS_OUTSIDE_POOLS,
  ALLOCATION_FAILED,
  Allocator,
  STATUS_WRITE_REFUSED,
  StatusWriteError,
  ingressFor,
  type AllocatorOptions,
  type EventSink,
  type EventTarget,
  type PassReport,
  type RefusedWrite,
  type Timers,
} from './allocator.js';
export { COMPONENT, startAllocator, type AllocatorConfig, type RunningAllocator } from './app.js';
