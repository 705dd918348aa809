// Policy status (issue 15): one elected agent writes each LocalRedirectPolicy's and
// BalancingPolicy's status (observedGeneration; Accepted / Programmed / Conflicted; backends
// per node) through the /status subresource, and only when it differs from what is stored.
export { policyStatusApi, type PolicyStatusApi, type StatusWriteResult } from './api.js';
export { MAX_MESSAGE_LENGTH, PROGRAMMED_REASONS, desiredStatuses, rfc3339, type PlannedStatus } from './compute.js';
export { PolicyStatusMetrics, type StatusWriteOutcome } from './metrics.js';
export { runStatusPass, type FailedWrite, type StatusLog, type StatusPassInput, type StatusPassReport } from './pass.js';
export { statusPatch, statusUpToDate } from './patch.js';
export { RecentWrites } from './recent-writes.js';
export { POLICY_STATUS_LEASE, startPolicyStatus, type PolicyStatusConfig, type RunningPolicyStatus } from './start.js';
export { frontendConflicts } from './frontend-conflicts.js';
export type { FrontendConflict, NodeBackends, PolicyStatus, PolicyStatusPorts, ProgrammedState, StatusTarget } from './types.js';
export { PolicyStatusWriter, type PolicyStatusWriterOptions } from './writer.js';
