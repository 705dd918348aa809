// The scheduling half of DESIGN.md's controller pattern, shared by every controller here
// (ipvs-controller, endpoint-controller, vip-announcer, vip-allocator): events only mark the
// state dirty; one pass runs at a time; a burst of events merges into one pass; a failed pass
// is retried with a doubling backoff; a periodic resync marks the state dirty without events.
// What a pass does, and what a resync or a retry means to it, belongs to its owner.
//
// The loop also knows whether it is healthy (health.ts): readiness() is false until a pass has
// succeeded and again once passes have kept failing for longer than failureGraceMs; liveness()
// is false while one pass has been running for longer than stallMs (a wedged loop). Hand the
// loop to startHealthServer's `checks` (or forward these two from the owner).
import type { ProbeResult } from './health.js';

export interface LoopTimers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
  /** Clock for readiness/liveness. Default Date.now. */
  now?(): number;
}

/** What a pass asks of the loop (all optional: nothing more to do). */
export interface PassOutcome {
  /** The pass failed: run again after the backoff (an exception means the same). */
  readonly retry?: boolean;
  /** More work is known (e.g. a write lost a race): run again after the debounce. */
  readonly again?: boolean;
  /** Look again after this long even without events (e.g. draining connections). */
  readonly pollMs?: number;
}

export interface PassLoopOptions {
  /** One pass; `poll`: scheduled by a previous pass's pollMs. Its exceptions go to onError and count as `retry`. */
  readonly pass: (started: { readonly byPoll: boolean }) => Promise<PassOutcome | void>;
  /** A resync is due (the owner notes what it means, e.g. a full re-read); the loop then marks itself dirty. */
  readonly onResync?: () => void;
  /** Resync period. */
  readonly resyncMs: number;
  /** Quiet period that merges a burst of events into one pass. */
  readonly debounceMs: number;
  /** Retry backoff after a failed pass: doubles from min up to max. */
  readonly backoffMs: { readonly min: number; readonly max: number };
  readonly timers?: LoopTimers;
  readonly onError?: (error: Error) => void;
  /** readiness() stays true through failed passes for this long after the last success. Default 10 000 ms. */
  readonly failureGraceMs?: number;
  /** liveness() turns false once one pass has run this long. Default 120 000 ms. */
  readonly stallMs?: number;
}

export const DEFAULT_FAILURE_GRACE_MS = 10_000;
export const DEFAULT_STALL_MS = 120_000;

type Pending = 'debounce' | 'backoff' | 'poll';

export const realTimers: LoopTimers = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
};

export class PassLoop {
  private dirty = false;
  private running: Promise<void> | undefined;
  private timer: unknown;
  /** Why the next pass is scheduled, if it is. */
  private pending: Pending | undefined;
  private resyncTimer: unknown;
  /** Not started, or stopped: events only mark the state dirty (caches may be half-listed). */
  private stopped = true;
  private backoff: number;
  private readonly timers: LoopTimers;
  private readonly now: () => number;
  /** Clock time of the current pass's start. */
  private runningSince: number | undefined;
  private succeededOnce = false;
  /** First failure of the current run of failed passes. */
  private failingSince: number | undefined;
  private failures = 0;
  private lastError: string | undefined;

  constructor(private readonly options: PassLoopOptions) {
    this.timers = options.timers ?? realTimers;
    this.backoff = options.backoffMs.min;
    this.now = () => (this.timers.now === undefined ? Date.now() : this.timers.now());
  }

  /**
   * Ready: a pass has succeeded, and passes have not kept failing for longer than
   * failureGraceMs since. A retry (an exception, or `retry: true`) is a failure.
   */
  readiness(): ProbeResult {
    if (!this.succeededOnce) {
      return { ok: false, detail: this.failures > 0 ? `no pass has succeeded yet (${this.failures} failed; last: ${this.lastError ?? 'retry'})` : 'no pass has succeeded yet' };
    }
    if (this.failingSince === undefined) return { ok: true };
    const failingMs = this.now() - this.failingSince;
    const grace = this.options.failureGraceMs ?? DEFAULT_FAILURE_GRACE_MS;
    const detail = `${this.failures} passes failed in the last ${Math.round(failingMs / 1000)} s (last: ${this.lastError ?? 'retry'})`;
    return { ok: failingMs <= grace, detail: failingMs <= grace ? `${detail}; within the ${Math.round(grace / 1000)} s grace` : detail };
  }

  /** Live: no pass has been running for longer than stallMs. */
  liveness(): ProbeResult {
    if (this.runningSince === undefined) return { ok: true };
    const runningMs = this.now() - this.runningSince;
    const stall = this.options.stallMs ?? DEFAULT_STALL_MS;
    return runningMs > stall ? { ok: false, detail: `a pass has been running for ${Math.round(runningMs / 1000)} s (limit ${Math.round(stall / 1000)} s)` } : { ok: true };
  }

  /** A pass now, then on events, retries, polls and every resync period. */
  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.schedule(0, 'debounce');
    this.armResync();
  }

  /** Something changed: a pass runs after the debounce. */
  markDirty(): void {
    this.dirty = true;
    // The quiet period counts from the first change: a steady stream of events must not
    // postpone the pass forever, nor cut short a retry backoff already scheduled. (A poll
    // further away gives way to the debounce.)
    if (!this.running && (this.pending === undefined || this.pending === 'poll')) this.schedule(this.options.debounceMs, 'debounce');
  }

  /** Stop scheduling and wait for a pass in progress. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.pending = undefined;
    this.timers.clearTimeout(this.timer);
    this.timers.clearTimeout(this.resyncTimer);
    await this.running;
  }

  private schedule(ms: number, why: Pending): void {
    if (this.stopped) return;
    this.timers.clearTimeout(this.timer);
    this.pending = why;
    this.timer = this.timers.setTimeout(() => {
      this.pending = undefined;
      void this.run(why === 'poll');
    }, ms);
  }

  private armResync(): void {
    if (this.stopped) return;
    this.resyncTimer = this.timers.setTimeout(() => {
      this.options.onResync?.();
      this.markDirty();
      this.armResync();
    }, this.options.resyncMs);
  }

  private async run(byPoll: boolean): Promise<void> {
    if (this.running || this.stopped) return;
    this.dirty = false;
    let outcome: PassOutcome = {};
    this.runningSince = this.now();
    this.running = (async () => {
      try {
        outcome = (await this.options.pass({ byPoll })) ?? {};
        if (outcome.retry === true) this.lastError = 'the pass asked for a retry';
      } catch (e) {
        outcome = { retry: true };
        const error = e instanceof Error ? e : new Error(String(e));
        this.lastError = error.message;
        this.options.onError?.(error);
      }
    })();
    await this.running;
    this.running = undefined;
    const ended = this.now();
    this.runningSince = undefined;
    if (outcome.retry === true) {
      this.failures++;
      this.failingSince ??= ended;
    } else {
      this.succeededOnce = true;
      this.failingSince = undefined;
      this.failures = 0;
      this.lastError = undefined;
    }
    if (outcome.retry === true) {
      this.schedule(this.backoff, 'backoff');
      this.backoff = Math.min(this.backoff * 2, this.options.backoffMs.max);
      return;
    }
    this.backoff = this.options.backoffMs.min;
    if (this.dirty || outcome.again === true) this.schedule(this.options.debounceMs, 'debounce');
    else if (outcome.pollMs !== undefined) this.schedule(outcome.pollMs, 'poll');
  }
}
