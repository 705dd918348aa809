// The resolver's controller loop (DESIGN.md's pattern): events only mark the state dirty;
// one pass takes a snapshot of the desired state (ResolverIndex: rebuilt only where the cluster
// changed, with the services that changed since the last snapshot), plans it against the maps
// (pure), applies the plan in publish order, then closes sockets still resolved to a backend
// that left its service. A pass plans and applies in steps of about `chunkSize` services, so
// that a whole state (the first pass, a resync) never holds more than one step's plan.
//
// The maps are read whole on the first pass, on every resync and after any failed write or
// failed pass; then every desired service is planned (in chunks, with no "before") and a last
// step deletes what nothing desired holds (planLeftovers). In between, the view of the maps is
// the last one with the plans applied to it (nothing else writes our pinned maps), and a pass
// plans only the services that changed (planScoped). A resync whose read finds the maps exactly
// as that view says (no drift) keeps the view and plans only what changed, as any pass does.
//
// The steps of a pass are one pass of writes (ResolverMaps.beginPass): a step's backends and new
// tables are written at once, but the swaps of the tables into bd_services, and the frontends
// behind them, may wait for a later step or the end of the pass, so that a pass swaps a few
// times and not once a step (each swap call waits an RCU grace period in the kernel). The view
// takes each step's plan as it is applied; a pass that does not end clean discards it.

import { PassLoop, type LoopTimers, type PassOutcome, type ProbeResult } from '@balanced/k8s';
import type { DesiredSnapshot } from './desired/index.js';
import type { ApplyReport, MapsPass, MapsRead } from './maps/resolver-maps.js';
import type { DesiredFrontend, DesiredState, MapsDump, Plan, RemovedBackend } from './model.js';
import { chunkKeys, createTableBuilder, frontendKey, MapsMirror, planLeftovers, planScoped, viewOfDump, type TableBuilder } from './plan/index.js';

/** What the agent needs of the pinned maps (ResolverMaps). */
export interface MapsPort {
  dump(): MapsDump;
  /** One read of the maps, compared with the agent's view before anything is decoded; absent: dump(). */
  read?(): MapsRead;
  apply(plan: Plan): ApplyReport;
  /** The writes of one pass (see the top of this file); absent: each step's plan is applied whole, at once. */
  beginPass?(): MapsPass;
}

/** What the agent needs of the socket terminator (undefined where the kernel cannot do it). */
export interface TerminatorPort {
  terminate(removed: readonly RemovedBackend[]): { readonly destroyed: number };
}

/** One step of a pass: a plan over about `chunkSize` services (or the leftovers), applied. */
export interface PassReport {
  /** The whole desired state (live: valid during the onPass call). */
  readonly desired: DesiredState;
  readonly plan: Plan;
  readonly apply: ApplyReport;
  /** The maps were read whole for this pass. */
  readonly fullRead: boolean;
  /** Sockets closed after this step (the last step of a pass closes those of every step). */
  readonly destroyed: number;
  /** This step: planning, applying, closing sockets. */
  readonly ms: number;
  /** Which step of the pass (0-based) and how many it has (fewer happen when one fails). */
  readonly step: { readonly index: number; readonly of: number };
}

export interface ResolverAgentOptions {
  readonly maps: MapsPort;
  /** A snapshot of the desired state (ResolverIndex.snapshot). */
  readonly desired: () => DesiredSnapshot;
  readonly terminator?: TerminatorPort;
  readonly resyncMs: number;
  readonly debounceMs?: number;
  readonly backoffMs?: { readonly min: number; readonly max: number };
  readonly timers?: LoopTimers;
  readonly now?: () => number;
  /** Services planned and applied per step (default 500; services that share a frontend or a table are never split). */
  readonly chunkSize?: number;
  /** A read of the maps found them other than the agent left them (the first difference): the pass repairs it. */
  readonly onDrift?: (difference: string) => void;
  /** After each step. */
  readonly onPass?: (report: PassReport) => void;
  readonly onError?: (error: Error) => void;
}

const DEFAULT_CHUNK_SIZE = 500;
/** Events closer than this make one pass; a pass costs what changed, so merging buys little. */
const DEFAULT_DEBOUNCE_MS = 1;
const NONE: readonly never[] = Object.freeze([]);
const EMPTY_PLAN: Plan = { ops: [], removed: [], serviceIds: new Map() };
const EMPTY_APPLY: ApplyReport = { applied: 0, failed: [], skipped: [], writes: 0, ms: 0 };

export class ResolverAgent {
  private readonly loop: PassLoop;
  /** What the maps hold (after the last clean pass); undefined: read them. */
  private mirror: MapsMirror | undefined;
  private fullRead = true;
  private lastGoodAt: number | undefined;
  private lastPassAt: number | undefined;
  private readonly now: () => number;
  private readonly chunkSize: number;
  /** One for the agent's life: unchanged Services build no table (see createTableBuilder). */
  private readonly buildTable: TableBuilder = createTableBuilder();

  constructor(private readonly options: ResolverAgentOptions) {
    this.now = options.now ?? Date.now;
    this.chunkSize = Math.max(1, Math.floor(options.chunkSize ?? DEFAULT_CHUNK_SIZE));
    this.loop = new PassLoop({
      pass: () => this.pass(),
      onResync: () => this.resync(),
      resyncMs: options.resyncMs,
      debounceMs: options.debounceMs ?? DEFAULT_DEBOUNCE_MS,
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

  /** The loop's readiness: a pass has succeeded and passes have not kept failing (see @balanced/k8s health.ts). */
  readiness(): ProbeResult {
    return this.loop.readiness();
  }

  /** The loop's liveness: no pass has been running for too long. */
  liveness(): ProbeResult {
    return this.loop.liveness();
  }

  /** Time of the last pass that applied everything it planned (undefined before the first). */
  get lastSuccess(): number | undefined {
    return this.lastGoodAt;
  }

  /** Time of the last pass, good or not: liveness (the loop makes progress). */
  get lastPass(): number | undefined {
    return this.lastPassAt;
  }

  /** Read the maps whole at the next pass (what the periodic resync does). */
  resync(): void {
    this.fullRead = true;
  }

  /** Runs one pass now, outside the schedule (tests, benchmarks): its steps' reports. */
  async runOnce(): Promise<PassReport[]> {
    const reports: PassReport[] = [];
    await this.reconcile((r) => reports.push(r));
    return reports;
  }

  private async pass(): Promise<PassOutcome> {
    return (await this.reconcile()) ? {} : { retry: true };
  }

  /** One pass; true when every step applied everything it planned. */
  private async reconcile(collect?: (report: PassReport) => void): Promise<boolean> {
    let started = performance.now();
    const fullRead = this.fullRead || this.mirror === undefined;
    // The view after the last clean pass (undefined after a failure: then the maps are read whole).
    let known = this.mirror;
    // Until the pass ends clean, the next one reads the maps.
    this.mirror = undefined;
    this.fullRead = true;
    try {
      const snapshot = this.options.desired();
      const state = snapshot.state;
      let mirror: MapsMirror;
      let drifted = fullRead;
      if (!fullRead && known !== undefined) mirror = known;
      else {
        const read = this.options.maps.read?.() ?? wholeRead(this.options.maps.dump());
        const difference = known?.difference(read.view);
        if (known !== undefined && difference === undefined) {
          mirror = known;
          drifted = false;
        } else {
          if (difference !== undefined) this.options.onDrift?.(difference);
          known = undefined; // never two mirrors at once (that doubled the agent's memory on every resync)
          mirror = MapsMirror.fromDump(read.dump());
        }
      }
      const changed = snapshot.changed;
      const whole = drifted || changed === 'all';
      const keys = whole ? [...state.services.keys()].sort() : [...changed.keys()].sort();
      const before = whole ? (): readonly DesiredFrontend[] => NONE : (key: string): readonly DesiredFrontend[] => changed.get(key) ?? NONE;
      const frontendsOf = (key: string): readonly DesiredFrontend[] => snapshot.frontendsOf(key);
      const chunkList = chunkKeys(keys, frontendsOf, before, mirror, this.chunkSize);
      const chunks = chunkList.length;
      const steps = Math.max(1, chunks + (whole ? 1 : 0));
      const claimed = new Set<number>();
      // Backends that left a service, and the services whose new table (or deletion) failed or
      // was skipped, over the whole pass: sockets are closed at its end (a swap may wait till then).
      const removed: RemovedBackend[] = [];
      const unsettled = new Set<number>();
      const writes = this.options.maps.beginPass?.() ?? wholePlans(this.options.maps);
      let clean = true;
      try {
        for (let index = 0; index < steps && clean; index++) {
          if (index > 0) {
            await yieldToEvents();
            started = performance.now();
          }
          let plan: Plan;
          if (index < chunks) {
            const scope = {
              keys: chunkList[index] as string[],
              service: (key: string) => state.services.get(key),
              frontends: frontendsOf,
              before,
            };
            plan = planScoped(scope, mirror, { buildTable: this.buildTable, claimed });
          } else if (whole) {
            const desiredKeys = new Set(state.frontends.map(frontendKey));
            plan = planLeftovers((fk) => desiredKeys.has(fk), claimed, mirror);
          } else {
            plan = EMPTY_PLAN;
          }
          let apply = plan.ops.length > 0 ? writes.apply(plan) : EMPTY_APPLY;
          clean = isClean(apply);
          const last = index === steps - 1 || !clean;
          if (last) {
            const rest = writes.finish();
            if (rest.applied > 0 || rest.failed.length > 0 || rest.skipped.length > 0 || rest.writes > 0) {
              apply = { applied: apply.applied + rest.applied, failed: [...apply.failed, ...rest.failed], skipped: [...apply.skipped, ...rest.skipped], writes: apply.writes + rest.writes, ms: apply.ms + rest.ms };
              clean = clean && isClean(rest);
            }
          }
          // The view takes the plan as written (what still waits is written by the end of the
          // pass; a pass that does not end clean drops the view).
          if (clean) {
            mirror.apply(plan.ops);
            for (const id of plan.serviceIds.values()) claimed.add(id);
          }
          for (const op of [...apply.failed.map((f) => f.op), ...apply.skipped]) if (op.op === 'service-put' || op.op === 'service-delete') unsettled.add(op.id);
          removed.push(...plan.removed);
          // Close sockets to backends that left a service whose new table is in place (a retry
          // would not plan that removal again).
          let destroyed = 0;
          if (last && this.options.terminator) {
            const settled = removed.filter((r) => !unsettled.has(r.serviceId));
            if (settled.length > 0) destroyed = this.options.terminator.terminate(settled).destroyed;
          }
          this.lastPassAt = this.now();
          if (last && clean) {
            this.mirror = mirror;
            this.fullRead = false;
            this.lastGoodAt = this.lastPassAt;
          }
          const report: PassReport = { desired: state, plan, apply, fullRead, destroyed, ms: performance.now() - started, step: { index, of: steps } };
          collect?.(report);
          this.options.onPass?.(report);
        }
      } finally {
        writes.close();
      }
      return clean;
    } catch (e) {
      this.mirror = undefined;
      this.fullRead = true;
      this.lastPassAt = this.now();
      throw e;
    }
  }
}

function isClean(apply: ApplyReport): boolean {
  return apply.failed.length === 0 && apply.skipped.length === 0;
}

/** A read that is a dump already (a MapsPort with no read). */
function wholeRead(dump: MapsDump): MapsRead {
  return { view: viewOfDump(dump), dump: () => dump };
}

/** A pass of writes that applies each plan whole, at once (a MapsPort with no beginPass). */
function wholePlans(maps: MapsPort): MapsPass {
  return { apply: (plan) => maps.apply(plan), finish: () => EMPTY_APPLY, close: () => undefined };
}

/** Lets informer events, probes and scrapes in between two steps of a long pass. */
function yieldToEvents(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
