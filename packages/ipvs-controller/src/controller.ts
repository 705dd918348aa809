import { serviceKeyString } from '@balanced/ipvs';
import { PassLoop, type LoopTimers, type PassOutcome } from '@balanced/k8s';
import type { DesiredSnapshot } from './desired-index.js';
import type { DesiredService } from './model.js';
import { isDirectorLevel, ProgrammingHealth, type HealthVerdict, type ProgrammingHealthOptions } from './programming-health.js';
import type { ReconcileReport, Reconciler } from './reconciler.js';
import { ServiceBackoff } from './service-backoff.js';

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
  /**
   * Retry backoff: doubles from min to max. A service whose ops fail waits it out alone (the
   * other services keep their latency); a pass that cannot program at all retries whole.
   */
  readonly backoffMs?: { readonly min: number; readonly max: number };
  /** When readiness turns false (see ProgrammingHealth). */
  readonly health?: ProgrammingHealthOptions;
  /** Milliseconds since the epoch (tests pass the manual timers' clock). */
  readonly now?: () => number;
  /** While destinations drain, look again this often (connections end without events). */
  readonly drainPollMs?: number;
  readonly timers?: Timers;
  readonly onPass?: (report: ReconcileReport) => void;
  readonly onError?: (error: Error) => void;
}

/**
 * The controller pattern of DESIGN.md: events only mark the state dirty; one worker runs
 * desire → read kernel → plan → apply, merging bursts; a periodic resync repairs drift (the
 * schedule is @balanced/k8s's PassLoop). Failures are isolated per virtual service: a
 * service whose ops the kernel refuses is left out of passes for its own doubling backoff,
 * then re-read alone and planned again, while every other service is programmed at event
 * latency. Only a pass that cannot program at all (kernel unreadable, outcomes unknown)
 * retries whole with a full re-read. Ready while passes keep programming (ProgrammingHealth).
 */
export class Controller {
  private readonly loop: PassLoop;
  private readonly health: ProgrammingHealth;
  private readonly failing: ServiceBackoff;
  private readonly now: () => number;
  /** The next pass re-reads the whole kernel table (first pass, resync, retry). */
  private fullRead = true;

  constructor(private readonly options: ControllerOptions) {
    const backoff = options.backoffMs ?? { min: 200, max: 30_000 };
    this.now = options.now ?? Date.now;
    this.health = new ProgrammingHealth(options.health);
    this.failing = new ServiceBackoff({ minMs: backoff.min, maxMs: backoff.max });
    this.loop = new PassLoop({
      pass: ({ byPoll }) => this.pass(byPoll),
      onResync: () => {
        this.fullRead = true;
      },
      resyncMs: options.resyncMs,
      debounceMs: options.debounceMs ?? 50,
      backoffMs: backoff,
      ...(options.timers ? { timers: options.timers } : {}),
      onError: (e) => {
        this.health.passFailed(e.message);
        options.onError?.(e);
      },
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

  /** What this director owns changed (its VIP ranges): the next pass re-reads the whole kernel. */
  resync(): void {
    this.fullRead = true;
    this.loop.markDirty();
  }

  /** Ready: the kernel was programmed and recent passes could program it. */
  get ready(): boolean {
    return this.health.ready(this.now()).ok;
  }

  /** Readiness with the reason (for /readyz). */
  readiness(): HealthVerdict {
    const r = this.health.ready(this.now());
    const failing = this.failing.size;
    return failing > 0 ? { ok: r.ok, detail: `${r.detail}; ${failing} service(s) failing, retried on their own: ${this.failing.ids().slice(0, 5).join(', ')}${failing > 5 ? ', …' : ''}` } : r;
  }

  /** Liveness: the loop makes progress (for /healthz). */
  liveness(): HealthVerdict {
    return this.health.live(this.now());
  }

  /** Virtual services currently failing and waiting out their own backoff. */
  get failingServices(): number {
    return this.failing.size;
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
    const started = this.now();
    this.health.passStarted(started);
    const skip = this.failing.deferred(started);
    const retry = this.failing.due(started);
    let report: ReconcileReport;
    try {
      report = await this.options.reconciler.reconcile(this.options.desired(), { fullRead, refreshDraining: byPoll, skip, retry });
    } catch (e) {
      this.fullRead = true;
      throw e; // the loop reports it (health, onError) and retries the whole pass
    }
    const now = this.now();
    for (const id of report.recovered) this.failing.succeed(id);
    // A service the kernel refused waits out its own backoff (a transport failure is no
    // service's fault: the whole pass retries instead).
    const refused = new Set(report.failed.filter((f) => !isDirectorLevel(f.error)).map((f) => serviceKeyString('key' in f.op.service ? f.op.service.key : f.op.service)));
    for (const [id, key] of report.failedServices) if (refused.has(id)) this.failing.fail(id, key, now);
    this.options.onPass?.(report);
    const directorLevel = report.failed.find((f) => isDirectorLevel(f.error));
    if (directorLevel !== undefined) {
      // Not one service's problem: nothing said can be trusted; re-read everything.
      this.health.passFailed(directorLevel.error.message);
      this.fullRead = true;
      return { retry: true };
    }
    this.health.passSucceeded();
    const polls = [report.pendingDrains > 0 ? (this.options.drainPollMs ?? 1000) : undefined, this.failing.nextDueIn(now)].filter((n): n is number => n !== undefined);
    return polls.length > 0 ? { pollMs: Math.min(...polls) } : {};
  }
}
