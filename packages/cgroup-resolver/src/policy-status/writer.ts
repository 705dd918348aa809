// Runs status passes on a PassLoop: the policy cache changing, the agent's programmed state
// changing, or this agent becoming the writer marks it dirty, and a burst of such changes
// merges into one pass after the debounce. A pass with failed writes (other than 404/409) is
// retried with backoff; a periodic resync repairs a status someone else changed.

import { PassLoop, type LoopTimers, type PassOutcome, type ProbeResult } from '@balanced/k8s';

import type { PolicyStatusApi } from './api.js';
import type { PolicyStatusMetrics } from './metrics.js';
import { runStatusPass, type StatusLog, type StatusPassReport } from './pass.js';
import { RecentWrites } from './recent-writes.js';
import type { PolicyStatusPorts } from './types.js';

export interface PolicyStatusWriterOptions {
  /** LocalRedirectPolicy and BalancingPolicy objects from the cache. */
  readonly objects: () => readonly unknown[];
  /** Both policy kinds have listed: no pass runs before (conflicts are decided on the whole set). */
  readonly synced: () => boolean;
  readonly ports: PolicyStatusPorts;
  readonly api: PolicyStatusApi;
  /** Checked before every pass and every write; a LeaderElector's isLeader in production. */
  readonly isLeader: () => boolean;
  readonly metrics?: PolicyStatusMetrics;
  readonly log?: StatusLog;
  /** Default Date.now. */
  readonly now?: () => number;
  /** Quiet period that merges a burst of changes into one pass. Default 200 ms. */
  readonly debounceMs?: number;
  /** A pass this often even without changes. Default 60 s. */
  readonly resyncMs?: number;
  /** Retry after a pass with failed writes: doubles from min to max. Default 1000 → 60 000 ms. */
  readonly backoffMs?: { readonly min: number; readonly max: number };
  readonly timers?: LoopTimers;
  readonly onPass?: (report: StatusPassReport) => void;
  readonly onError?: (error: Error) => void;
}

export class PolicyStatusWriter {
  private readonly loop: PassLoop;
  private readonly recent = new RecentWrites();
  private readonly now: () => number;

  constructor(private readonly options: PolicyStatusWriterOptions) {
    this.now = options.now ?? (() => Date.now());
    this.loop = new PassLoop({
      pass: () => this.scheduledPass(),
      resyncMs: options.resyncMs ?? 60_000,
      debounceMs: options.debounceMs ?? 200,
      backoffMs: options.backoffMs ?? { min: 1000, max: 60_000 },
      ...(options.timers !== undefined ? { timers: options.timers } : {}),
      ...(options.onError !== undefined ? { onError: options.onError } : {}),
    });
  }

  /** Passes run from now on (on changes, leadership, retries and every resync period). */
  start(): void {
    this.loop.start();
  }

  /** Stop scheduling; waits for a pass in progress. */
  async stop(): Promise<void> {
    await this.loop.stop();
  }

  /** The policy cache changed, or the agent's programmed state or backend counts did. */
  markDirty(): void {
    this.loop.markDirty();
  }

  /** This agent became the writer: write whatever is out of date. */
  leadershipStarted(): void {
    this.options.metrics?.setLeader(true);
    this.loop.markDirty();
  }

  leadershipStopped(): void {
    this.options.metrics?.setLeader(false);
    this.recent.clear();
  }

  /** One pass now, outside the schedule (tests); undefined before the caches have listed. */
  async runOnce(): Promise<StatusPassReport | undefined> {
    if (!this.options.synced()) return undefined;
    const report = await runStatusPass({
      objects: this.options.objects(),
      ports: this.options.ports,
      api: this.options.api,
      isLeader: this.options.isLeader,
      now: this.now(),
      recent: this.recent,
      ...(this.options.metrics !== undefined ? { metrics: this.options.metrics } : {}),
      ...(this.options.log !== undefined ? { log: this.options.log } : {}),
    });
    this.options.onPass?.(report);
    return report;
  }

  readiness(): ProbeResult {
    return this.loop.readiness();
  }

  liveness(): ProbeResult {
    return this.loop.liveness();
  }

  private async scheduledPass(): Promise<PassOutcome> {
    const report = await this.runOnce();
    return { retry: report !== undefined && report.errors.length > 0 };
  }
}
