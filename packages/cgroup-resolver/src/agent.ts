// The resolver's controller loop (DESIGN.md's pattern): events only mark the state dirty;
// one pass builds the desired state from the caches (pure), plans it against the maps
// (pure), applies the plan in publish order, then closes sockets still resolved to a
// backend that left its service. The maps are read whole on the first pass, on every resync
// and after any failed write; in between, the view of the maps is the last one with the
// plan applied to it (nothing else writes our pinned maps), and a pass plans only the services
// that changed since the last one (planChanges) unless many did.

import { PassLoop, type LoopTimers, type PassOutcome } from '@balanced/k8s';
import type { ApplyReport } from './maps/resolver-maps.js';
import type { DesiredState, MapsDump, Plan, RemovedBackend } from './model.js';
import { createTableBuilder, MapsMirror, planChanges, planMaps, type TableBuilder } from './plan/index.js';

/** What the agent needs of the pinned maps (ResolverMaps). */
export interface MapsPort {
  dump(): MapsDump;
  apply(plan: Plan): ApplyReport;
}

/** What the agent needs of the socket terminator (undefined where the kernel cannot do it). */
export interface TerminatorPort {
  terminate(removed: readonly RemovedBackend[]): { readonly destroyed: number };
}

export interface PassReport {
  readonly desired: DesiredState;
  readonly plan: Plan;
  readonly apply: ApplyReport;
  /** The maps were read whole for this pass. */
  readonly fullRead: boolean;
  readonly destroyed: number;
  readonly ms: number;
}

export interface ResolverAgentOptions {
  readonly maps: MapsPort;
  readonly desired: () => DesiredState;
  readonly terminator?: TerminatorPort;
  readonly resyncMs: number;
  readonly debounceMs?: number;
  readonly backoffMs?: { readonly min: number; readonly max: number };
  readonly timers?: LoopTimers;
  readonly now?: () => number;
  readonly onPass?: (report: PassReport) => void;
  readonly onError?: (error: Error) => void;
}

export class ResolverAgent {
  private readonly loop: PassLoop;
  /** What the maps hold (after the last clean pass); undefined: read them. */
  private mirror: MapsMirror | undefined;
  /** What the last clean pass brought the maps to. */
  private last: DesiredState | undefined;
  private fullRead = true;
  private lastGoodAt: number | undefined;
  private lastPassAt: number | undefined;
  private readonly now: () => number;
  /** One for the agent's life: unchanged Services build no table (see createTableBuilder). */
  private readonly buildTable: TableBuilder = createTableBuilder();

  constructor(private readonly options: ResolverAgentOptions) {
    this.now = options.now ?? Date.now;
    this.loop = new PassLoop({
      pass: () => this.pass(),
      onResync: () => {
        this.fullRead = true;
      },
      resyncMs: options.resyncMs,
      debounceMs: options.debounceMs ?? 5,
      backoffMs: options.backoffMs ?? { min: 200, max: 10_000 },
      ...(options.timers ? { timers: options.timers } : {}),
      ...(options.onError ? { onError: options.onError } : {}),
    });
  }

  /** First pass now (call it once the caches are synced), then on events and every resync. */
  start(): void {
    this.fullRead = true;
    this.loop.start();
  }

  markDirty(): void {
    this.loop.markDirty();
  }

  stop(): Promise<void> {
    return this.loop.stop();
  }

  /** Time of the last pass that applied everything it planned (undefined before the first). */
  get lastSuccess(): number | undefined {
    return this.lastGoodAt;
  }

  /** Time of the last pass, good or not: liveness (the loop makes progress). */
  get lastPass(): number | undefined {
    return this.lastPassAt;
  }

  /** Runs one pass now, outside the schedule (tests, benchmarks). */
  runOnce(): PassReport {
    return this.reconcile();
  }

  private async pass(): Promise<PassOutcome> {
    const report = this.reconcile();
    return report.apply.failed.length > 0 || report.apply.skipped.length > 0 ? { retry: true } : {};
  }

  private reconcile(): PassReport {
    const started = performance.now();
    const fullRead = this.fullRead || this.mirror === undefined || this.last === undefined;
    try {
      const desired = this.options.desired();
      let mirror: MapsMirror;
      let plan: Plan | undefined;
      if (fullRead) {
        const dump = this.options.maps.dump();
        mirror = MapsMirror.fromDump(dump);
        plan = planMaps(desired, dump, { buildTable: this.buildTable });
      } else {
        mirror = this.mirror!;
        plan = planChanges(this.last!, desired, mirror, { buildTable: this.buildTable });
      }
      plan ??= planMaps(desired, mirror.toDump(), { buildTable: this.buildTable });
      // Nothing is written to the mirror before the maps took the plan whole.
      this.mirror = undefined;
      this.fullRead = true;
      const apply = plan.ops.length > 0 ? this.options.maps.apply(plan) : EMPTY_APPLY;
      const clean = apply.failed.length === 0 && apply.skipped.length === 0;
      if (clean) {
        // After a failure we do not know exactly what the maps hold: they are read next time.
        this.mirror = mirror.apply(plan.ops);
        this.last = desired;
        this.fullRead = false;
      }
      // Close sockets to backends that left a service whose new table is in place (a retry
      // would not plan that removal again).
      const unsettled = new Set<number>();
      for (const op of [...apply.failed.map((f) => f.op), ...apply.skipped]) if (op.op === 'service-put' || op.op === 'service-delete') unsettled.add(op.id);
      const removed = plan.removed.filter((r) => !unsettled.has(r.serviceId));
      let destroyed = 0;
      if (removed.length > 0 && this.options.terminator) destroyed = this.options.terminator.terminate(removed).destroyed;
      this.lastPassAt = this.now();
      if (clean) this.lastGoodAt = this.lastPassAt;
      const report: PassReport = { desired, plan, apply, fullRead, destroyed, ms: performance.now() - started };
      this.options.onPass?.(report);
      return report;
    } catch (e) {
      this.mirror = undefined;
      this.fullRead = true;
      this.lastPassAt = this.now();
      throw e;
    }
  }
}


const EMPTY_APPLY: ApplyReport = { applied: 0, failed: [], skipped: [], writes: 0, ms: 0 };
