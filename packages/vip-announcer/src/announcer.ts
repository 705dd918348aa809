// The announcer's loop (the controller pattern of DESIGN.md, with BIRD as the "kernel"):
// events (a Service, an EndpointSlice, a VipPool, the controller's health) only mark the
// state dirty; one worker renders the file from a snapshot and brings BIRD to it; bursts
// merge; a failed pass is retried with backoff; a periodic resync re-checks the file and BIRD.
// shutdown() withdraws every VIP (and reloads BIRD) before it returns.
import { PassLoop, type LoopTimers, type ProbeResult } from '@balanced/k8s';
import type { AnnouncementPlan } from './announcements.js';
import type { ApplyResult } from './bird-applier.js';

export interface RenderedState {
  readonly content: string;
  readonly plan: AnnouncementPlan;
  /** Problems worth logging (missing pools, invalid pool entries). */
  readonly problems: readonly string[];
}

export type { LoopTimers };

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
  /** readiness() stays true through failed passes for this long (PassLoop's failureGraceMs). */
  readonly failureGraceMs?: number;
  /** liveness() turns false once one pass has run this long (PassLoop's stallMs). */
  readonly stallMs?: number;
}

export class Announcer {
  private readonly loop: PassLoop;
  private shuttingDown = false;
  /** The next pass is a resync (or a retry): verify BIRD even if nothing changed. */
  private verify = false;
  private applied = false;
  private failure: Error | undefined;

  constructor(private readonly options: AnnouncerOptions) {
    this.loop = new PassLoop({
      pass: () => this.pass(),
      onResync: () => {
        this.verify = true;
      },
      resyncMs: options.resyncMs ?? 60_000,
      debounceMs: options.debounceMs ?? 50,
      backoffMs: options.backoffMs ?? { min: 200, max: 30_000 },
      ...(options.timers ? { timers: options.timers } : {}),
      ...(options.onError ? { onError: options.onError } : {}),
      ...(options.failureGraceMs !== undefined ? { failureGraceMs: options.failureGraceMs } : {}),
      ...(options.stallMs !== undefined ? { stallMs: options.stallMs } : {}),
    });
  }

  /** The loop's readiness (health.ts of @balanced/k8s): a pass has succeeded and passes have not kept failing. */
  readiness(): ProbeResult {
    return this.loop.readiness();
  }

  /** The loop's liveness: no pass has been running for too long (a wedged loop). */
  liveness(): ProbeResult {
    return this.loop.liveness();
  }

  /** A pass now, then on events and every resync period. */
  start(): void {
    if (this.shuttingDown) return;
    this.loop.start();
  }

  markDirty(): void {
    this.loop.markDirty();
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
  stop(): Promise<void> {
    return this.loop.stop();
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

  private async pass(): Promise<void> {
    const verify = this.verify;
    this.verify = false;
    let report: PassReport | undefined;
    try {
      report = await this.runOnce({ verify });
    } catch (e) {
      this.failure = e instanceof Error ? e : new Error(String(e));
      this.verify = true;
      throw this.failure; // the loop reports it and retries with backoff
    }
    if (report === undefined) return;
    this.applied = true;
    this.failure = undefined;
    this.options.onPass?.(report);
  }
}
