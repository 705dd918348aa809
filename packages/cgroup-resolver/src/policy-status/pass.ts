// One status pass: compute every policy's status from the cached objects and, as the elected
// writer only, write those that differ from what the object holds, one by one. A policy's
// failed write never stops the others: 409 (changed meanwhile) and 404 (deleted meanwhile) are
// expected and left to the next pass, which the cache's change triggers; any other failure is
// counted, logged and reported for that policy alone. Leadership is checked before every write.

import { policyKey } from '@balanced/policies';

import type { PolicyStatusApi } from './api.js';
import { desiredStatuses } from './compute.js';
import type { PolicyStatusMetrics } from './metrics.js';
import { statusPatch, statusUpToDate } from './patch.js';
import type { RecentWrites } from './recent-writes.js';
import type { PolicyStatusPorts } from './types.js';

/** Where the pass logs (a pino Logger fits). */
export interface StatusLog {
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
  debug(fields: object, message: string): void;
}

export interface StatusPassInput {
  /** LocalRedirectPolicy and BalancingPolicy objects, as cached. */
  readonly objects: readonly unknown[];
  readonly ports: PolicyStatusPorts;
  readonly api: PolicyStatusApi;
  /** Checked before computing and before every write; a LeaderElector's isLeader in production. */
  readonly isLeader: () => boolean;
  /** Clock time (ms) for the lastTransitionTime of conditions that change. */
  readonly now: number;
  readonly metrics?: PolicyStatusMetrics;
  readonly log?: StatusLog;
  /** Our earlier writes the cache may not show yet. */
  readonly recent?: RecentWrites;
}

export interface FailedWrite {
  /** `Kind/name`. */
  readonly policy: string;
  readonly error: Error;
}

export interface StatusPassReport {
  /** Leading when the pass started (a pass that does not lead computes and writes nothing). */
  readonly leader: boolean;
  /** Statuses computed. */
  readonly policies: number;
  /** Of those, already as desired (no write). */
  readonly unchanged: number;
  /** `Kind/name` of each status written. */
  readonly written: readonly string[];
  readonly conflicts: readonly string[];
  readonly notFound: readonly string[];
  readonly errors: readonly FailedWrite[];
  /** Leadership was lost during the pass: the remaining writes were dropped. */
  readonly abandoned: boolean;
}

export async function runStatusPass(input: StatusPassInput): Promise<StatusPassReport> {
  const written: string[] = [];
  const conflicts: string[] = [];
  const notFound: string[] = [];
  const errors: FailedWrite[] = [];
  if (!input.isLeader()) return { leader: false, policies: 0, unchanged: 0, written, conflicts, notFound, errors, abandoned: false };

  const objects = input.recent?.overlay(input.objects) ?? input.objects;
  const planned = desiredStatuses(objects, input.ports, input.now);
  let unchanged = 0;
  let dropped = 0;
  for (const [index, { target, current, desired }] of planned.entries()) {
    if (statusUpToDate(current, desired)) {
      unchanged++;
      continue;
    }
    if (!input.isLeader()) {
      dropped = planned.length - index;
      break;
    }
    const policy = policyKey(target);
    const result = await input.api.patchStatus(target, statusPatch(current, desired));
    input.metrics?.recordWrite(result.kind);
    switch (result.kind) {
      case 'ok':
        written.push(policy);
        input.recent?.remember(target.resourceVersion, result.object);
        input.log?.info({ policy, conditions: desired.conditions.map((c) => `${c.type}=${c.status}:${c.reason}`) }, 'policy status written');
        break;
      case 'conflict':
        conflicts.push(policy);
        input.log?.debug({ policy }, 'policy changed since its status was computed; the next pass writes it');
        break;
      case 'notfound':
        notFound.push(policy);
        input.log?.debug({ policy }, 'policy deleted before its status was written');
        break;
      case 'error':
        errors.push({ policy, error: result.error });
        input.log?.warn({ policy, err: result.error.message }, 'policy status write failed; the other policies go on, this one is tried again next pass');
        break;
    }
  }
  if (dropped > 0) input.log?.warn({ dropped }, 'lost the policy status lease during a pass; the remaining policies were not written');
  return { leader: true, policies: planned.length, unchanged, written, conflicts, notFound, errors, abandoned: dropped > 0 };
}
