/** Something a controller would not program, as it becomes an Event (the director's Refusal, the resolver's). */
export interface ReportableRefusal {
  readonly object: { readonly kind: string; readonly namespace?: string; readonly name: string };
  readonly reason: string;
  readonly message: string;
}

export interface EventSink {
  record(involved: ReportableRefusal['object'] & { apiVersion?: string }, type: 'Normal' | 'Warning', reason: string, message: string): Promise<void>;
}

const API_VERSIONS: Readonly<Record<string, string>> = {
  EndpointSlice: 'discovery.k8s.io/v1',
  LocalRedirectPolicy: 'balanced.dev/v1alpha1',
  BalancingPolicy: 'balanced.dev/v1alpha1',
  VipPool: 'balanced.dev/v1alpha1',
};

/**
 * Turns each pass's refusals into Kubernetes Events, once per appearance: a refusal that
 * persists across passes is not re-sent; one that goes away and comes back is.
 */
export class RefusalReporter<R extends ReportableRefusal = ReportableRefusal> {
  private active = new Set<string>();

  constructor(private readonly sink: EventSink) {}

  /** Returns the refusals that are new since the last call (and were sent). */
  report(refusals: readonly R[], warnings: readonly R[] = []): R[] {
    const next = new Set<string>();
    const fresh: R[] = [];
    for (const r of [...refusals, ...warnings]) {
      const id = `${r.object.kind}/${r.object.namespace ?? ''}/${r.object.name}|${r.reason}|${r.message}`;
      next.add(id);
      if (!this.active.has(id)) fresh.push(r);
    }
    this.active = next;
    for (const r of fresh) {
      const apiVersion = API_VERSIONS[r.object.kind] ?? 'v1';
      void this.sink.record({ ...r.object, apiVersion }, 'Warning', r.reason, r.message);
    }
    return fresh;
  }
}
