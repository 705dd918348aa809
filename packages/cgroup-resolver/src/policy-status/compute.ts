// Each policy's desired status, from the raw objects (both kinds) and the agent's ports. Pure.
//
// - Accepted and Conflicted come from @balanced/policies (parse, then resolveConflicts), so every
//   agent and the webhook give the same answer; an object that does not parse gets
//   Accepted=False reason Invalid and no Conflicted. One conflict the specs do not show (an
//   addressMatcher on a Service's ClusterIP vs a serviceMatcher on that Service) is the agent's
//   to report (ports.frontendConflicts): the newer policy stays Accepted and is Conflicted
//   (reason FrontendClaimed, the message naming the winner).
// - Programmed is the agent's answer for an accepted policy; a policy that is not accepted is
//   never programmed (no agent puts it in its maps).
// - nodes: backends per node, for an accepted policy when the agent computed them.
// - The conditions are exactly these; lastTransitionTime is kept from the stored condition of the
//   same type whose status did not change (mergeConditions).

import { asArray, asString, prop } from '@balanced/k8s';
import {
  heldFrontendConditions,
  mergeConditions,
  parsePolicy,
  policyKey,
  policyKindOf,
  refusalConditions,
  resolutionConditions,
  resolveConflicts,
  type Policy,
  type PolicyCondition,
  type PolicyKind,
  type PolicyRef,
  type Resolution,
} from '@balanced/policies';

import type { NodeBackends, PolicyStatus, PolicyStatusPorts, ProgrammedState, StatusTarget } from './types.js';

export const PROGRAMMED_REASONS = { notAccepted: 'NotAccepted' } as const;

/** metav1.Condition.message holds at most this many characters (the CRD schema says so too). */
export const MAX_MESSAGE_LENGTH = 32_768;

export interface PlannedStatus {
  readonly target: StatusTarget;
  /** status as the object holds it (anything, or undefined). */
  readonly current: unknown;
  readonly desired: PolicyStatus;
}

/** RFC 3339 at second precision, as Kubernetes writes metav1.Time. */
export function rfc3339(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

interface Seen {
  readonly kind: PolicyKind;
  readonly name: string;
  readonly object: unknown;
}

/**
 * One planned status per policy object that has a kind of ours and a name, in input order.
 * `nowMs` stamps the conditions whose status changed.
 */
export function desiredStatuses(objects: readonly unknown[], ports: PolicyStatusPorts, nowMs: number): PlannedStatus[] {
  const now = rfc3339(nowMs);
  const seen: Seen[] = [];
  const parsed: Policy[] = [];
  const refused = new Map<string, PolicyCondition[]>();
  for (const object of objects) {
    const kind = policyKindOf(prop(object, 'kind'));
    const name = asString(prop(prop(object, 'metadata'), 'name')) ?? '';
    if (kind === undefined || name === '') continue; // nowhere to write a status
    seen.push({ kind, name, object });
    const result = parsePolicy(object);
    if (result.ok) parsed.push(result.policy);
    else refused.set(policyKey({ kind, name }), [...refusalConditions(result.refusal, generationOf(object), now), notProgrammed(generationOf(object), now)]);
  }
  const resolutions = new Map<string, Resolution>();
  for (const r of resolveConflicts(parsed)) resolutions.set(policyKey({ kind: r.policy.kind, name: r.policy.meta.name }), r);

  const out: PlannedStatus[] = [];
  for (const { kind, name, object } of seen) {
    const ref: PolicyRef = { kind, name };
    const key = policyKey(ref);
    const resolution = resolutions.get(key);
    const generation = generationOf(object);
    let computed: PolicyCondition[];
    let nodes: readonly NodeBackends[] | undefined;
    if (resolution !== undefined) {
      const held = resolution.state === 'Accepted' ? (ports.frontendConflicts?.(ref) ?? []) : [];
      computed = held.length > 0 ? heldFrontendConditions(resolution.policy, held, now) : resolutionConditions(resolution, now);
      if (resolution.state === 'Accepted') {
        computed.push(programmedCondition(ports.programmed(ref), generation, now));
        nodes = nodeList(ports.backendsPerNode(ref));
      } else {
        computed.push(notProgrammed(generation, now));
      }
    } else {
      computed = refused.get(key) ?? [];
    }
    const status = prop(object, 'status');
    const existing = storedConditions(status).filter((c) => computed.some((u) => u.type === c.type));
    const conditions = mergeConditions(existing, computed.map(clampMessage));
    const resourceVersion = asString(prop(prop(object, 'metadata'), 'resourceVersion'));
    out.push({
      target: { kind, name, ...(resourceVersion !== undefined && resourceVersion !== '' ? { resourceVersion } : {}) },
      current: status,
      desired: { ...(generation !== undefined ? { observedGeneration: generation } : {}), conditions, ...(nodes !== undefined ? { nodes } : {}) },
    });
  }
  return out;
}

function generationOf(object: unknown): number | undefined {
  const g = prop(prop(object, 'metadata'), 'generation');
  return typeof g === 'number' && Number.isInteger(g) && g >= 0 ? g : undefined;
}

function withGeneration(generation: number | undefined): { observedGeneration?: number } {
  return generation !== undefined ? { observedGeneration: generation } : {};
}

function programmedCondition(state: ProgrammedState, generation: number | undefined, now: string): PolicyCondition {
  return { type: 'Programmed', status: state.status, reason: state.reason, message: state.message, ...withGeneration(generation), lastTransitionTime: now };
}

function notProgrammed(generation: number | undefined, now: string): PolicyCondition {
  return {
    type: 'Programmed',
    status: 'False',
    reason: PROGRAMMED_REASONS.notAccepted,
    message: 'no agent programs a policy that is not accepted: see the Accepted condition',
    ...withGeneration(generation),
    lastTransitionTime: now,
  };
}

function clampMessage(c: PolicyCondition): PolicyCondition {
  return c.message.length <= MAX_MESSAGE_LENGTH ? c : { ...c, message: `${c.message.slice(0, MAX_MESSAGE_LENGTH - 1)}…` };
}

function nodeList(counts: ReadonlyMap<string, number> | undefined): NodeBackends[] | undefined {
  if (counts === undefined) return undefined;
  return [...counts].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([node, backends]) => ({ node, backends }));
}

const STATUSES: readonly PolicyCondition['status'][] = ['True', 'False', 'Unknown'];
const TYPES: readonly PolicyCondition['type'][] = ['Accepted', 'Programmed', 'Conflicted'];

/** The conditions of ours a stored status holds (only their type, status and lastTransitionTime matter). */
function storedConditions(status: unknown): PolicyCondition[] {
  const out: PolicyCondition[] = [];
  for (const c of asArray(prop(status, 'conditions'))) {
    const type = TYPES.find((t) => t === prop(c, 'type'));
    const st = STATUSES.find((s) => s === prop(c, 'status'));
    const time = asString(prop(c, 'lastTransitionTime'));
    if (type === undefined || st === undefined || time === undefined) continue;
    out.push({
      type,
      status: st,
      reason: asString(prop(c, 'reason')) ?? '',
      message: asString(prop(c, 'message')) ?? '',
      lastTransitionTime: time,
    });
  }
  return out;
}
