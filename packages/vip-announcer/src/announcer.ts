// The announcer's loop (the controller pattern of DESIGN.md, with BIRD as the "kernel"):
// events (a Service, an EndpointSlice, a VipPool, the controller's health) only mark the
// state dirty; one worker renders the file from a snapshot and brings BIRD to it; bursts
// merge; a failed pass is retried with backoff; a periodic resync re-checks the file and BIRD.
// shutdown() withdraws every VIP (and reloads BIRD) before it returns.
import type { AnnouncementPlan } from './announcements.js';
import type { ApplyResult } from './bird-applier.js';

export interface RenderedState {
  readonly content: string;
  readonly plan: AnnouncementPlan;
  /** Problems worth logging (missing pools, invalid pool entries). */
  readonly problems: readonly string[];
}

export interface LoopTimers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export interface PassReport {
  readonly rendered: RenderedState;
  readonly result: ApplyResult;
}

export interface AnnouncerOptions {
  /** The file for the current snapshot; undefined = not enough known yet to decide (skip). */
  readonly render: () => RenderedState | undefined;
  /** The file with no VIP at all (sessions stay up). */
  readonly renderWithdrawn: () => string;
  /** `verify`: a resync pass; check BIRD even when the file is unchanged. */
  readonly apply: (content: string, options: { readonly verify: boolean }) => Promise<ApplyResult>;
  /** Re-check the file and BIRD this often without events. Default 60 s. */
  readonly resyncMs?: number;
  /** Quiet period merging a burst of events. Default 50 ms. */
  readonly debounceMs?: number;
  /** Backoff after a failed pass, doubling. Default 200 ms → 30 s. */
  readonly backoffMs?: { readonly min: number; readonly max: number };
  readonly timers?: LoopTimers;
  readonly onPass?: (report: PassReport) => void;
  readonly onError?: (error: Error) => void;
}

export class Announcer {
  private dirty = false;
  private running: Promise<void> | undefined;
  private timer: unknown;
  private resyncTimer: unknown;
  private stopped = true;
  private shuttingDown = false;
  private backoff: number;
  /** The next pass is a resync (or a retry): verify BIRD even if nothing changed. */
  private verify = false;
  private applied = false;
  private failure: Error | undefined;
  private readonly timers: LoopTimers;
  private readonly debounceMs: number;
  private readonly backoffRange: { min: number; max: number };

  constructor(private readonly options: AnnouncerOptions) {
    this.timers = options.timers ?? { setTimeout: (fn, ms) => setTimeout(fn, ms), clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout) };
    this.debounceMs = options.debounceMs ?? 50;
    this.backoffRange = options.backoffMs ?? { min: 200, max: 30_000 };
    this.backoff = this.backoffRange.min;
  }

  /** A pass now, then on events and every resync period. */
  start(): void {
    if (this.shuttingDown) return;
    this.stopped = false;
    this.schedule(0);
    this.armResync();
  }

  markDirty(): void {
    this.dirty = true;
    if (!this.running) this.schedule(this.debounceMs);
  }

  /** BIRD runs the file of the last pass (and at least one pass has applied). */
  get ready(): boolean {
    return this.applied && this.failure === undefined;
  }

  /** Why the last pass failed, if it did. */
  get lastError(): Error | undefined {
    return this.failure;
  }

  /** Stops the loop, leaving BIRD as it is. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.timers.clearTimeout(this.timer);
    this.timers.clearTimeout(this.resyncTimer);
    await this.running;
  }

  /** Stops the loop, then withdraws every VIP and reloads BIRD (SIGTERM). Throws if BIRD did not take it. */
  async shutdown(): Promise<ApplyResult> {
    this.shuttingDown = true;
    await this.stop();
    return this.options.apply(this.options.renderWithdrawn(), { verify: false });
  }

  /** One pass now, outside the schedule (tests, CLI). */
  async runOnce(options: { readonly verify?: boolean } = {}): Promise<PassReport | undefined> {
    const rendered = this.options.render();
    if (rendered === undefined) return undefined;
    return { rendered, result: await this.options.apply(rendered.content, { verify: options.verify ?? false }) };
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    this.timers.clearTimeout(this.timer);
    this.timer = this.timers.setTimeout(() => void this.pass(), ms);
  }

  private armResync(): void {
    if (this.stopped) return;
    this.resyncTimer = this.timers.setTimeout(() => {
      this.verify = true;
      this.markDirty();
      this.armResync();
    }, this.options.resyncMs ?? 60_000);
  }

  private async pass(): Promise<void> {
    if (this.running || this.stopped) return;
    this.dirty = false;
    const verify = this.verify;
    this.verify = false;
    let retry = false;
    this.running = (async () => {
      try {
        const report = await this.runOnce({ verify });
        if (report === undefined) return;
        this.applied = true;
        this.failure = undefined;
        this.options.onPass?.(report);
      } catch (e) {
        retry = true;
        this.failure = e instanceof Error ? e : new Error(String(e));
        this.options.onError?.(this.failure);
      }
    })();
    await this.running;
    this.running = undefined;
    if (retry) {
      this.verify = true;
      this.schedule(this.backoff);
      this.backoff = Math.min(this.backoff * 2, this.backoffRange.max);
    } else {
      this.backoff = this.backoffRange.min;
      if (this.dirty) this.schedule(this.debounceMs);
    }
  }
}
