// What the resolver agent tells the policy status writer (PolicyStatusPorts), read from its own
// state: the desired state its last pass applied, and the pods of the cluster cache.
//
// Programmed is what THIS agent's maps hold (the writer is one elected agent; every agent exports
// the same fact as metrics): True with the frontend and backend counts when the policy's services
// were applied by a successful pass; False with the agent's refusal when it could not program it;
// Unknown when the policy does not apply on this node (nodeLabelSelector) or no pass succeeded.
// frontendConflicts: what of the policy's frontend its pass gave to an older policy (Conflicted).
// backendsPerNode counts the pods the policy selects, usable (Ready, not deleting), per node: the
// same pure reading every agent makes, so it says what the agent on each node resolves to.
import type { Policy, PolicyKind, PolicyRef } from '@balanced/policies';
import { readPolicy } from '../desired/policy-read.js';
import { readPod } from '../desired/policy-pods.js';
import { podSelected, selectsPods } from '../desired/policy-candidates.js';
import type { DesiredState } from '../model.js';
import { frontendConflicts } from './frontend-conflicts.js';
import type { PolicyStatusPorts, ProgrammedState } from './types.js';

export const AGENT_PROGRAMMED_REASONS = {
  programmed: 'Programmed',
  notProgrammed: 'NotProgrammed',
  notOnThisNode: 'NotOnThisNode',
  noGoodPass: 'NoGoodPass',
} as const;

export interface AgentPortsInput {
  /** This agent's node ('' or undefined out of cluster). */
  readonly nodeName: string | undefined;
  /** The desired state the last pass applied, or undefined while no pass has succeeded since it last failed. */
  readonly applied: () => DesiredState | undefined;
  /** The raw cached objects of one policy kind. */
  readonly policies: (kind: PolicyKind) => readonly unknown[];
  /** The raw pods of the cluster cache. */
  readonly pods: () => readonly unknown[];
}

/** The policy key prefix of its services in the desired state (policyServiceKey). */
const servicePrefix = (ref: PolicyRef): string => `policy ${ref.kind}/${ref.name}:`;

export function programmedState(state: DesiredState | undefined, ref: PolicyRef, nodeName: string | undefined): ProgrammedState {
  const where = nodeName === undefined ? 'this host (out of cluster)' : `node ${nodeName}`;
  if (state === undefined) return { status: 'Unknown', reason: AGENT_PROGRAMMED_REASONS.noGoodPass, message: `the resolver on ${where}, which writes policy status, has no successful pass yet or its last pass failed` };
  const prefix = servicePrefix(ref);
  const keys = new Set<string>();
  let backends = 0;
  for (const [key, service] of state.services) {
    if (!key.startsWith(prefix)) continue;
    keys.add(key);
    backends += service.backends.filter((b) => b.weight > 0).length;
  }
  const frontends = keys.size === 0 ? 0 : state.frontends.filter((f) => keys.has(f.service)).length;
  if (frontends > 0) {
    const fallback = ref.kind === 'LocalRedirectPolicy' && backends === 0 ? ' (no ready local pod: it falls back to the Service)' : '';
    return { status: 'True', reason: AGENT_PROGRAMMED_REASONS.programmed, message: `${where} resolves ${frontends} frontend(s) of this policy to ${backends} backend(s)${fallback}` };
  }
  const refusal = state.refusals.find((r) => r.object.kind === ref.kind && r.object.name === ref.name);
  if (refusal !== undefined) return { status: 'False', reason: AGENT_PROGRAMMED_REASONS.notProgrammed, message: `${where}: ${refusal.message}` };
  return { status: 'Unknown', reason: AGENT_PROGRAMMED_REASONS.notOnThisNode, message: `the policy does not apply on ${where}, which writes policy status (config.nodeLabelSelector / enableOutCluster); the agents where it applies program it` };
}

/** Usable selected pods per node, for policies that select pods; undefined otherwise. */
export function backendsPerNode(policy: Policy, pods: readonly unknown[]): ReadonlyMap<string, number> | undefined {
  if (!selectsPods(policy)) return undefined;
  const counts = new Map<string, number>();
  for (const raw of pods) {
    const pod = readPod(raw);
    if (pod === undefined || !pod.usable || pod.nodeName === undefined) continue;
    // For a LocalRedirectPolicy, "selected on its own node".
    if (!podSelected(policy, pod, pod.nodeName)) continue;
    counts.set(pod.nodeName, (counts.get(pod.nodeName) ?? 0) + 1);
  }
  return counts;
}

export function agentPolicyPorts(input: AgentPortsInput): PolicyStatusPorts {
  const find = (ref: PolicyRef): Policy | undefined => {
    for (const raw of input.policies(ref.kind)) {
      const parsed = readPolicy(raw, ref.kind);
      if (parsed.ok && parsed.policy.meta.name === ref.name) return parsed.policy;
    }
    return undefined;
  };
  return {
    programmed: (ref) => programmedState(input.applied(), ref, input.nodeName),
    frontendConflicts: (ref) => frontendConflicts(input.applied(), ref),
    backendsPerNode: (ref) => {
      const policy = find(ref);
      return policy === undefined ? undefined : backendsPerNode(policy, input.pods());
    },
  };
}
