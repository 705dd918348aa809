// VipPool IPAM: startAllocator (the binary's wiring), the pure allocate() plan, VipPool parsing, and the label selectors policies share.
export { startAllocator, type AllocatorConfig, type RunningAllocator } from './app.js';
export { allocate, type AllocateInput, type AllocationFailure, type AllocationPlan, type StatusChange } from './allocate.js';
export { describeService, type DescribeOptions, type ServiceInput } from './service-input.js';
export { describeProblems, parseVipPool, poolContains, type PoolParse, type PoolProblem, type VipPool } from './pool.js';
export { PoolCatalog, type InvalidPool } from './pool-catalog.js';
export { parseAddress } from './address.js';
export { isEmptySelector, matchesSelector, parseLabelSelector, type LabelSelector } from './label-selector.js';
