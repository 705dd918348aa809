export { CGROUP2_ROOT, assertBelow, cgroupOfPid, cgroupPids, createTestCgroup, joinCgroup, parseCgroupProcs, removeTestCgroup } from './cgroup.js';
export { BPFFS_ROOT, createTestPinRoot, ensureBpffs, isBpfMounted, removeTestPinRoot } from './bpffs.js';
export { addLocalAddresses, localAddressArgs } from './addresses.js';
export { cgroupNetnsArgv, execInCgroupNetns, spawnInCgroupNetns } from './spawn.js';
export { IDENTITY_SERVER_SCRIPT } from './identity-server-script.js';
export {
  startIdentityServers,
  validateListeners,
  type IdentityListener,
  type IdentityServerStats,
  type IdentityServers,
  type IdentityServersOptions,
  type ListenerProtocol,
} from './identity-servers.js';
export { RESOLVER_CLIENT_SCRIPT } from './resolver-client-script.js';
export {
  startResolverClient,
  type ErrorCode,
  type HeldSocket,
  type HoldEvent,
  type HoldOptions,
  type LoopAttempt,
  type LoopOptions,
  type LoopResult,
  type RefusedAttempt,
  type RefusedOptions,
  type ResolverClient,
  type ResolverClientOptions,
  type RunningLoop,
  type Target,
  type TcpConnection,
  type TcpOptions,
  type TcpResult,
  type UdpConnectedReply,
  type UdpConnectedResult,
  type UdpProbeOptions,
  type UdpReply,
  type UdpUnconnectedResult,
} from './resolver-client.js';
export {
  formatEndpoint,
  parseEndpoint,
  percentile,
  shares,
  summarizeLatencies,
  summarizeTimeline,
  type LatencySummary,
  type ParsedEndpoint,
  type TimelineSummary,
} from './summary.js';
export { churnViolations, type AppliedSet } from './churn-check.js';
export { withResolverLab, type ResolverLabScope } from './scope.js';
