import { PassLoop, type LoopTimers, type PassOutcome } from '@balanced/k8s';
import type { DesiredSnapshot } from './desired-index.js';
import type { DesiredService } from './model.js';
import type { ReconcileReport, Reconciler } from './reconciler.js';

export type Timers = LoopTimers;

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
 * with backoff; a periodic resync repairs drift (the schedule is @balanced/k8s's PassLoop).
 * Ready after the first pass that fully applied.
 */
export class Controller {
  private readonly loop: PassLoop;
  private readyFlag = false;
  /** The next pass re-reads the whole kernel table (first pass, resync, retry). */
  private fullRead = true;

  constructor(private readonly options: ControllerOptions) {
    this.loop = new PassLoop({
      pass: ({ byPoll }) => this.pass(byPoll),
      onResync: () => {
        this.fullRead = true;
      },
      resyncMs: options.resyncMs,
      debounceMs: options.debounceMs ?? 50,
      backoffMs: options.backoffMs ?? { min: 200, max: 30_000 },
      ...(options.timers ? { timers: options.timers } : {}),
      ...(options.onError ? { onError: options.onError } : {}),
    });
  }

  /** First pass now (call it once the caches are synced), then on events and every resync period. */
  start(): void {
    this.fullRead = true;
    this.loop.start();
  }

  /** Something changed: a pass will run after the debounce (bursts merge into one). */
  markDirty(): void {
    this.loop.markDirty();
  }

  get ready(): boolean {
    return this.readyFlag;
  }

  /** Stop scheduling and wait for a pass in progress. Kernel state is left as it is. */
  stop(): Promise<void> {
    return this.loop.stop();
  }

  /** Run one pass now (tests, CLI `plan --apply`). */
  async runOnce(): Promise<ReconcileReport> {
    return this.options.reconciler.reconcile(this.options.desired());
  }

  /** A drain poll re-reads the draining services: their connection counts change without events. */
  private async pass(byPoll: boolean): Promise<PassOutcome> {
    const fullRead = this.fullRead;
    this.fullRead = false;
    let report: ReconcileReport;
    try {
      report = await this.options.reconciler.reconcile(this.options.desired(), { fullRead, refreshDraining: byPoll });
    } catch (e) {
      this.fullRead = true;
      throw e;
    }
    this.options.onPass?.(report);
    if (report.failed.length > 0) {
      this.fullRead = true;
      return { retry: true };
    }
    this.readyFlag = true;
    return report.pendingDrains > 0 ? { pollMs: this.options.drainPollMs ?? 1000 } : {};
  }
}
