import type { EventObject, EventType } from '@balanced/k8s';
import type { PodOutcome } from './controller.js';
import type { SkippedPod } from './desired.js';
import type { PodRef } from './pod-view.js';
import { describeTunnelOps } from './tunnel-plan.js';

export interface EventSink {
  record(involved: EventObject, type: EventType, reason: string, message: string): Promise<void>;
}

function podObject(pod: PodRef): EventObject {
  return { kind: 'Pod', apiVersion: 'v1', namespace: pod.namespace, name: pod.name, uid: pod.uid };
}

/**
 * Events on the pod: one per change made in its namespace, one per new kind of failure
 * (a failure that repeats is not re-sent), one per appearance of an invalid opt-out.
 */
export class PodEventReporter {
  private invalid = new Set<string>();

  constructor(private readonly sink: EventSink) {}

  pod(outcome: PodOutcome): void {
    if (outcome.kind === 'programmed') {
      if (outcome.result.ops.length === 0) return;
      void this.sink.record(podObject(outcome.target), 'Normal', 'TunnelConfigured', describeTunnelOps(outcome.result.ops));
    } else if (outcome.changed) {
      void this.sink.record(podObject(outcome.target), 'Warning', 'TunnelFailed', `${outcome.error.reason}: ${outcome.error.message} (retrying)`);
    }
  }

  skipped(skipped: readonly SkippedPod[]): void {
    const next = new Set<string>();
    for (const s of skipped) {
      if (s.reason !== 'InvalidTunnelIgnore') continue;
      const id = `${s.pod.uid}|${s.message}`;
      next.add(id);
      if (!this.invalid.has(id)) void this.sink.record(podObject(s.pod), 'Warning', 'InvalidTunnelIgnore', s.message);
    }
    this.invalid = next;
  }
}
