export { POLICY_API_VERSION, POLICY_DEFAULTS, POLICY_GROUP, POLICY_KINDS, POLICY_RESOURCES, POLICY_VERSION, PROTOCOLS, REDIRECT_MODES, policyKindOf, type PolicyResource } from './constants.js';
export type {
  BalancingBackend,
  BalancingPolicy,
  Frontend,
  LocalRedirectPolicy,
  Policy,
  PolicyConfig,
  PolicyKind,
  PolicyMeta,
  PolicyParse,
  PolicyPort,
  PolicyProblem,
  PolicyRefusal,
  PortPair,
  Protocol,
  RedirectMode,
} from './types.js';
export { parsePolicy } from './parse.js';
export { matchesSelector, type LabelSelector } from './selector.js';
export { describePort, pairPorts } from './ports.js';
export { policyIp } from './address.js';
export { createdAtOf } from './meta.js';
export { claimsOverlap, describeClaim, frontendClaims, frontendTarget, overlap, policyKey, refOf, type FrontendClaim, type PolicyRef } from './claims.js';
export { claimOrder, claimedBy, resolveConflicts, type Resolution } from './conflicts.js';
export { defaultingPatch, type AddOperation } from './defaults.js';
export { REASONS, heldFrontendConditions, mergeConditions, refusalConditions, resolutionConditions, type ConditionType, type HeldFrontend, type PolicyCondition } from './status.js';
