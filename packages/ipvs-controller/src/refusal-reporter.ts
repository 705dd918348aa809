import type { Refusal } from '@balanced/k8s';

export interface EventSink {
  record(involved: Refusal['object'] & { apiVersion?: string }, type: 'Normal' | 'Warning', reason: string, message: string): Promise<void>;
}

/**
 * Turns each pass's refusals into Kubernetes Events, once per appearance: a refusal that
 * persists across passes is not re-sent; one that goes away and comes back is.
 */
export class RefusalReporter {
  private active = new Set<string>();

  constructor(private readonly sink: EventSink) {}

  /** Returns the refusals that are new since the last call (and were sent). */
  report(refusals: readonly Refusal[], warnings: readonly Refusal[] = []): Refusal[] {
    const next = new Set<string>();
    const fresh: Refusal[] = [];
    for (const r of [...refusals, ...warnings]) {
      const id = `${r.object.kind}/${r.object.namespace}/${r.object.name}|${r.reason}|${r.message}`;
      next.add(id);
      if (!this.active.has(id)) fresh.push(r);
    }
    this.active = next;
    for (const r of fresh) {
      const apiVersion = r.object.kind === 'EndpointSlice' ? 'discovery.k8s.io/v1' : 'v1';
      void this.sink.record({ ...r.object, apiVersion }, 'Warning', r.reason, r.message);
    }
    return fresh;
  }
}
