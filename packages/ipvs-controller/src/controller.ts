import type { DesiredSnapshot } from './desired-index.js';
import type { DesiredService } from './model.js';
import type { ReconcileReport, Reconciler } from './reconciler.js';

export interface Timers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export interface ControllerOptions {
  readonly reconciler: Reconciler;
  /**
   * A consistent snapshot of the desired state (built from the informer caches): a DesiredIndex
   * snapshot (what changed since the last call), or a plain list (everything, all changed).
   */
  readonly desired: () => readonly DesiredService[] | DesiredSnapshot;
  /** Full resync period: re-read the kernel and repair drift even without events. */
  readonly resyncMs: number;
  /** Quiet period that merges a burst of events into one pass. */
  readonly debounceMs?: number;
  /** Retry backoff after a failed pass: doubles from min to max. */
  readonly backoffMs?: { readonly min: number; readonly max: number };
  /** While destinations drain, look again this often (connections end without events). */
  readonly drainPollMs?: number;
  readonly timers?: Timers;
  readonly onPass?: (report: ReconcileReport) => void;
  readonly onError?: (error: Error) => void;
}

/**
 * The controller pattern of DESIGN.md: events only mark the state dirty; one worker runs
 * desire → read kernel → plan → apply, merging bursts; a failed or uncertain pass is retried
 * with backoff; a periodic resync repairs drift. Ready after the first pass that fully applied.
 */
export class Controller {
  private dirty = false;
  private running: Promise<void> | undefined;
  private timer: unknown;
  /** Why the next pass is scheduled, if it is. */
  private pending: 'debounce' | 'backoff' | 'poll' | undefined;
  private resyncTimer: unknown;
  /** Not started yet, or stopped: events only mark the state dirty (caches may be half-listed). */
  private stopped = true;
  private backoff: number;
  private readyFlag = false;
  /** The next pass re-reads the whole kernel table (first pass, resync, retry). */
  private fullRead = true;
  /** The next pass re-reads the draining services (drain poll). */
  private refreshDraining = false;
  private readonly timers: Timers;
  private readonly debounceMs: number;
  private readonly backoffRange: { min: number; max: number };

  constructor(private readonly options: ControllerOptions) {
    this.timers = options.timers ?? { setTimeout: (fn, ms) => setTimeout(fn, ms), clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout) };
    this.debounceMs = options.debounceMs ?? 50;
    this.backoffRange = options.backoffMs ?? { min: 200, max: 30_000 };
    this.backoff = this.backoffRange.min;
  }

  /** First pass now (call it once the caches are synced), then on events and every resync period. */
  start(): void {
    this.stopped = false;
    this.fullRead = true;
    this.schedule(0, 'debounce');
    this.armResync();
  }

  /** Something changed: a pass will run after the debounce (bursts merge into one). */
  markDirty(): void {
    this.dirty = true;
    // The quiet period counts from the first change: a steady stream of events must not
    // postpone the pass forever (nor cut short a retry backoff already scheduled).
    // (A drain poll further away gives way to the debounce.)
    if (!this.running && (this.pending === undefined || this.pending === 'poll')) this.schedule(this.debounceMs, 'debounce');
  }

  get ready(): boolean {
    return this.readyFlag;
  }

  /** Stop scheduling and wait for a pass in progress. Kernel state is left as it is. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.pending = undefined;
    this.timers.clearTimeout(this.timer);
    this.timers.clearTimeout(this.resyncTimer);
    await this.running;
  }

  /** Run one pass now (tests, CLI `plan --apply`). */
  async runOnce(): Promise<ReconcileReport> {
    return this.options.reconciler.reconcile(this.options.desired());
  }

  private schedule(ms: number, why: 'debounce' | 'backoff' | 'poll'): void {
    if (this.stopped) return;
    this.timers.clearTimeout(this.timer);
    this.pending = why;
    this.timer = this.timers.setTimeout(() => {
      this.pending = undefined;
      void this.pass();
    }, ms);
  }

  private armResync(): void {
    if (this.stopped) return;
    this.resyncTimer = this.timers.setTimeout(() => {
      this.fullRead = true;
      this.markDirty();
      this.armResync();
    }, this.options.resyncMs);
  }

  private async pass(): Promise<void> {
    if (this.running || this.stopped) return;
    this.dirty = false;
    const fullRead = this.fullRead;
    const refreshDraining = this.refreshDraining;
    this.fullRead = false;
    this.refreshDraining = false;
    let retry = false;
    let draining = false;
    this.running = (async () => {
      try {
        const report = await this.options.reconciler.reconcile(this.options.desired(), { fullRead, refreshDraining });
        this.options.onPass?.(report);
        retry = report.failed.length > 0;
        draining = report.pendingDrains > 0;
        if (!retry) this.readyFlag = true;
      } catch (e) {
        retry = true;
        this.options.onError?.(e instanceof Error ? e : new Error(String(e)));
      }
    })();
    await this.running;
    this.running = undefined;
    if (retry) {
      this.fullRead = true;
      this.schedule(this.backoff, 'backoff');
      this.backoff = Math.min(this.backoff * 2, this.backoffRange.max);
    } else {
      this.backoff = this.backoffRange.min;
      if (this.dirty) this.schedule(this.debounceMs, 'debounce');
      else if (draining) {
        this.refreshDraining = true;
        this.schedule(this.options.drainPollMs ?? 1000, 'poll');
      }
    }
  }
}
