// Kubernetes Events (core/v1) for refusals and notable actions, the way client-go's
// EventRecorder writes them: one Event per (object, type, reason, message); recording the
// same thing again bumps `count` and `lastTimestamp` on that Event (merge patch) instead of
// creating another. Recording never throws: Events are advisory, and a controller must not
// stop reconciling because the API server refused one. Failures are counted in stats().

import { ApiException, CoreV1Api, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import type { CoreV1Event, KubeConfig } from '@kubernetes/client-node';

/**
 * The object an Event is about. Named EventObject because `InvolvedObject` is already the
 * desired-state builder's (narrower) type; every InvolvedObject is an EventObject.
 */
export interface EventObject {
  kind: string;
  /** Omit (or '') for cluster-scoped objects: the Event then goes to `default`. */
  namespace?: string;
  name: string;
  uid?: string;
  apiVersion?: string;
}

export type EventType = 'Normal' | 'Warning';

export interface EventRecorderOptions {
  /** source.component / reportingComponent, e.g. `balanced-ipvs-controller`. */
  component: string;
  /** source.host / reportingInstance, e.g. the node name. */
  host?: string;
  now?: () => Date;
  /** Distinct (object, type, reason, message) kept for deduplication. Default 4096 (client-go's). */
  cacheSize?: number;
}

export interface EventRecorderStats {
  /** Events created. */
  sent: number;
  /** Existing Events whose count was bumped. */
  updated: number;
  /** Records that reached no Event (API errors, swallowed). */
  failed: number;
  /** The last failure's message, for a log line or a status page. */
  lastError?: string;
}

interface Recorded {
  namespace: string;
  name: string;
  count: number;
}

const DEFAULT_CACHE_SIZE = 4096;

export class EventRecorder {
  private readonly core: CoreV1Api;
  private readonly component: string;
  private readonly host: string | undefined;
  private readonly now: () => Date;
  private readonly cacheSize: number;
  /** Insertion-ordered: the oldest entry is evicted first (refreshed on use). */
  private readonly recorded = new Map<string, Recorded>();
  /** Per key, the tail of the records in progress: the same key is handled in order. */
  private readonly queues = new Map<string, Promise<void>>();
  private readonly counters: EventRecorderStats = { sent: 0, updated: 0, failed: 0 };
  private sequence = 0;

  constructor(kc: KubeConfig, options: EventRecorderOptions) {
    this.core = kc.makeApiClient(CoreV1Api);
    this.component = options.component;
    this.host = options.host;
    this.now = options.now ?? (() => new Date());
    this.cacheSize = options.cacheSize ?? DEFAULT_CACHE_SIZE;
  }

  /** Create or bump the Event; resolves when the API server answered (never rejects). */
  record(involved: EventObject, type: EventType, reason: string, message: string): Promise<void> {
    const key = JSON.stringify([involved.kind, involved.namespace ?? '', involved.name, involved.uid ?? '', type, reason, message]);
    const previous = this.queues.get(key) ?? Promise.resolve();
    const next = previous.then(() => this.send(key, involved, type, reason, message));
    this.queues.set(key, next);
    void next.then(() => {
      if (this.queues.get(key) === next) this.queues.delete(key);
    });
    return next;
  }

  stats(): EventRecorderStats {
    return { ...this.counters };
  }

  private async send(key: string, involved: EventObject, type: EventType, reason: string, message: string): Promise<void> {
    try {
      const existing = this.recorded.get(key);
      if (existing !== undefined && (await this.bump(existing))) {
        this.remember(key, existing);
        this.counters.updated++;
        return;
      }
      const created = await this.create(involved, type, reason, message);
      this.remember(key, created);
      this.counters.sent++;
    } catch (err) {
      this.recorded.delete(key);
      this.counters.failed++;
      this.counters.lastError = describe(err);
    }
  }

  /** Merge-patch count+1; false when the Event is gone (expired), so a new one is created. */
  private async bump(existing: Recorded): Promise<boolean> {
    const count = existing.count + 1;
    try {
      await this.core.patchNamespacedEvent(
        { name: existing.name, namespace: existing.namespace, body: { count, lastTimestamp: this.now().toISOString() } },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      );
    } catch (err) {
      if (err instanceof ApiException && err.code === 404) return false;
      throw err;
    }
    existing.count = count;
    return true;
  }

  private async create(involved: EventObject, type: EventType, reason: string, message: string): Promise<Recorded> {
    const now = this.now();
    const namespace = involved.namespace === undefined || involved.namespace === '' ? 'default' : involved.namespace;
    // client-go names Events "<object>.<unix nanos in hex>"; the sequence keeps two records
    // in the same millisecond apart.
    const name = `${involved.name}.${(BigInt(now.getTime()) * 1_000_000n + BigInt(this.sequence++ % 1_000_000)).toString(16)}`;
    const body: CoreV1Event = {
      metadata: { name, namespace },
      involvedObject: {
        kind: involved.kind,
        name: involved.name,
        ...(involved.namespace ? { namespace: involved.namespace } : {}),
        ...(involved.uid ? { uid: involved.uid } : {}),
        ...(involved.apiVersion ? { apiVersion: involved.apiVersion } : {}),
      },
      type,
      reason,
      message,
      count: 1,
      firstTimestamp: now,
      lastTimestamp: now,
      source: { component: this.component, ...(this.host ? { host: this.host } : {}) },
      reportingComponent: this.component,
      reportingInstance: this.host ?? '',
    };
    await this.core.createNamespacedEvent({ namespace, body });
    return { namespace, name, count: 1 };
  }

  private remember(key: string, entry: Recorded): void {
    this.recorded.delete(key);
    this.recorded.set(key, entry);
    while (this.recorded.size > this.cacheSize) {
      const oldest = this.recorded.keys().next();
      if (oldest.done === true) break;
      this.recorded.delete(oldest.value);
    }
  }
}

function describe(err: unknown): string {
  if (err instanceof ApiException) {
    const body: unknown = err.body;
    return `HTTP ${err.code}: ${typeof body === 'string' ? body : JSON.stringify(body)}`;
  }
  return err instanceof Error ? err.message : String(err);
}
