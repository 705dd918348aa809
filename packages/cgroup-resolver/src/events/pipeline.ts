// The events path: ring buffer records → decode → enrich → sinks (log lines, Redis stream,
// counters). Records arrive on the main thread in batches (RingReader); batches are handled
// one after another, in order. A batch with a cgroup id the index does not know waits for
// one walk of the cgroup hierarchy (asynchronous); everything else is synchronous. Batches
// that pile up beyond `maxBacklog` events are dropped and counted, never buffered without
// bound. Nothing here can slow resolution down: the kernel drops (and counts) what the ring
// cannot hold.
import { decodeResolutionEvent, type ResolutionEvent } from '../maps/layout.js';
import type { CgroupOwner } from './cgroup-paths.js';
import { enrich, recordFields, recordLog, type EnrichLookups, type EventRecord } from './enrich.js';
import type { RedisDropReason } from './redis-sink.js';

/** What the pipeline counts (ResolverMetrics implements it). */
export interface EventsMetricsPort {
  resolution(service: string, kind: string, result: string): void;
  /** Events lost in userspace: `decode` (malformed record), `backlog` (reader fell behind). */
  eventsLost(n: number, reason: 'decode' | 'backlog'): void;
  logSuppressed(n: number): void;
  redisWritten(n: number): void;
  redisDropped(n: number, reason: RedisDropReason): void;
}

export interface CgroupOwners {
  get(id: bigint): CgroupOwner | undefined;
  wantsWalk(ids: Iterable<bigint>): boolean;
  refresh(): Promise<void>;
}

export interface EventSinks {
  /** A log line (already admitted by the limiter). */
  readonly log?: { admit(): boolean; write(fields: Record<string, unknown>): void; /** End of a batch: write what is held. */ flush?(): void };
  readonly redis?: { push(fields: string[]): void };
}

export interface EventsPipelineOptions {
  readonly owners: CgroupOwners;
  readonly lookups: EnrichLookups;
  readonly sinks: EventSinks;
  readonly metrics: EventsMetricsPort;
  /** Events decoded but not yet handled, at most. Default 65536. */
  readonly maxBacklog?: number;
  readonly now?: () => number;
  /** Every record handed to the sinks (tests, the bench). */
  readonly onRecord?: (r: EventRecord) => void;
}

const HOST: CgroupOwner = { kind: 'host' };

export class EventsPipeline {
  private pending: ResolutionEvent[] = [];
  private running: Promise<void> | undefined;
  private readonly maxBacklog: number;
  private readonly now: () => number;
  /** Events handed to the sinks. */
  handled = 0;

  constructor(private readonly options: EventsPipelineOptions) {
    this.maxBacklog = options.maxBacklog ?? 65_536;
    this.now = options.now ?? Date.now;
  }

  /** One raw ring-buffer record (RingReader.onRecord). */
  record(bytes: Uint8Array): void {
    let event: ResolutionEvent;
    try {
      event = decodeResolutionEvent(bytes);
    } catch {
      this.options.metrics.eventsLost(1, 'decode');
      return;
    }
    if (this.pending.length >= this.maxBacklog) {
      this.options.metrics.eventsLost(1, 'backlog');
      return;
    }
    this.pending.push(event);
  }

  /** The records so far form a batch (RingReader.onBatch): handle them. */
  batch(): void {
    this.running ??= this.drain().finally(() => {
      this.running = undefined;
      if (this.pending.length > 0) this.batch();
    });
  }

  /** Resolves once everything received so far is handled. */
  async idle(): Promise<void> {
    while (this.running !== undefined || this.pending.length > 0) {
      if (this.running === undefined) this.batch();
      await this.running;
    }
  }

  private async drain(): Promise<void> {
    while (this.pending.length > 0) {
      const events = this.pending;
      this.pending = [];
      const { owners } = this.options;
      if (owners.wantsWalk(events.map((e) => e.cgroupId))) await owners.refresh();
      const time = this.now();
      try {
        for (const e of events) this.emit(enrich(e, owners.get(e.cgroupId) ?? HOST, this.options.lookups, time));
      } finally {
        this.options.sinks.log?.flush?.();
      }
    }
  }

  private emit(r: EventRecord): void {
    const { sinks, metrics } = this.options;
    metrics.resolution(r.service, r.kind, r.result);
    if (sinks.log !== undefined) {
      if (sinks.log.admit()) sinks.log.write(recordLog(r));
      else metrics.logSuppressed(1);
    }
    sinks.redis?.push(recordFields(r));
    this.handled += 1;
    this.options.onRecord?.(r);
  }
}
