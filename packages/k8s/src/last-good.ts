// A live Service whose balanced annotations become invalid keeps its last good state: a typo
// on a Service must not take it down. This is the one rule for that, used by the ipvs-controller
// (DesiredIndex) and the vip-announcer (planAnnouncements), so both always keep the same thing.
//
// The last good state lives in the cluster, not in a process: while a Service's annotations
// parse cleanly, a recorder (LastAcceptedRecorder, run by the leader-elected vip-allocator)
// copies them into the annotation LAST_ACCEPTED_ANNOTATION. When they stop parsing, every
// director rebuilds the Service from that copy (with today's endpoints), so a restart keeps
// it, a director that joins later keeps it too, and every director keeps the same thing.
// Without a copy (none recorded yet, or an unreadable one) the candidates this process built
// last are kept, as before; with neither, the Service is refused.
//
// The key sits outside `balanced.dev/` on purpose: users write `balanced.dev/*`, the system
// writes this one (and the parser's unknown-key warning stays for real typos).

import type { V1Service } from '@kubernetes/client-node';
import { ANNOTATION_PREFIX, BALANCED_D_ANNOTATION_PREFIX, parseServiceConfig } from './annotations.js';
import { buildServiceDesired, type ServiceCandidate, type ServiceDesired, type ServiceDesiredInput } from './desired-state.js';
import { asRecord, asString, prop } from './read.js';

export const LAST_ACCEPTED_ANNOTATION = 'last-accepted.balanced.dev/annotations';

const isOurKey = (key: string): boolean => key.startsWith(ANNOTATION_PREFIX) || key.startsWith(BALANCED_D_ANNOTATION_PREFIX);

/** The Service's own balanced annotations (ours and BalanceD's keys), sorted by key. */
function ownAnnotations(service: unknown): Record<string, unknown> {
  const all = asRecord(prop(prop(service, 'metadata'), 'annotations')) ?? {};
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(all).sort()) if (isOurKey(key) && key !== '__proto__') out[key] = all[key];
  return out;
}

/**
 * What LAST_ACCEPTED_ANNOTATION should hold for this Service now: its balanced annotations as
 * JSON when they all parse, else undefined (keep whatever is recorded).
 */
export function acceptedAnnotationsValue(service: V1Service): string | undefined {
  if (!parseServiceConfig(service).ok) return undefined;
  return JSON.stringify(ownAnnotations(service));
}

/** A JSON merge patch that brings the recorded copy up to date, or undefined when it is. */
export function lastAcceptedPatch(service: V1Service): { metadata: { annotations: Record<string, string> } } | undefined {
  const value = acceptedAnnotationsValue(service);
  if (value === undefined) return undefined;
  const recorded = asString(prop(prop(prop(service, 'metadata'), 'annotations'), LAST_ACCEPTED_ANNOTATION));
  if (recorded === value) return undefined;
  return { metadata: { annotations: { [LAST_ACCEPTED_ANNOTATION]: value } } };
}

/** The Service as last accepted (its balanced annotations replaced by the recorded ones), if a readable copy is recorded. */
export function asLastAccepted(service: V1Service): V1Service | undefined {
  const text = asString(prop(prop(prop(service, 'metadata'), 'annotations'), LAST_ACCEPTED_ANNOTATION));
  if (text === undefined) return undefined;
  let recorded: Record<string, unknown> | undefined;
  try {
    const parsed: unknown = JSON.parse(text);
    recorded = Array.isArray(parsed) ? undefined : asRecord(parsed);
  } catch {
    return undefined;
  }
  if (recorded === undefined) return undefined;
  const annotations: Record<string, unknown> = {};
  const current = asRecord(prop(prop(service, 'metadata'), 'annotations')) ?? {};
  for (const key of Object.keys(current)) if (!isOurKey(key) && key !== LAST_ACCEPTED_ANNOTATION && key !== '__proto__') annotations[key] = current[key];
  for (const key of Object.keys(recorded)) if (isOurKey(key) && key !== '__proto__') annotations[key] = recorded[key];
  const metadata = { ...(asRecord(prop(service, 'metadata')) ?? {}), annotations };
  return { ...service, metadata } as V1Service;
}

/** The Service was refused for its annotations and nothing else could be built. */
function refusedForAnnotations(built: ServiceDesired): boolean {
  return built.candidates.length === 0 && built.refusals.some((r) => r.object.kind === 'Service' && r.field?.startsWith('metadata.annotations') === true);
}

export interface KeptServiceDesired extends ServiceDesired {
  /** The candidates are a last good state kept through an annotation error (the refusals still stand). */
  readonly kept: boolean;
  /** Where a kept state came from. */
  readonly keptFrom?: 'recorded' | 'memory';
}

/**
 * buildServiceDesired, keeping the last good state of a Service refused for its annotations:
 * rebuilt from the recorded copy (LAST_ACCEPTED_ANNOTATION) with today's endpoints, else
 * `previous` (what this process built last for it), else nothing.
 */
export function buildKeepingLastGood(input: ServiceDesiredInput, previous: readonly ServiceCandidate[]): KeptServiceDesired {
  const built = buildServiceDesired(input);
  if (!refusedForAnnotations(built)) return { ...built, kept: false };
  const recorded = asLastAccepted(input.service);
  if (recorded !== undefined) {
    const rebuilt = buildServiceDesired({ ...input, service: recorded });
    if (rebuilt.candidates.length > 0) return { candidates: rebuilt.candidates, refusals: built.refusals, warnings: built.warnings, kept: true, keptFrom: 'recorded' };
  }
  if (previous.length > 0) return { candidates: previous, refusals: built.refusals, warnings: built.warnings, kept: true, keptFrom: 'memory' };
  return { ...built, kept: false };
}
