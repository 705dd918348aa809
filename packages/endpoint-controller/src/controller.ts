import { PassLoop, realTimers, type LoopTimers, type ProbeResult } from '@balanced/k8s';
import type { DesiredPods, PodTarget, SkippedPod } from './desired.js';
import { PodTunnelError, errorMessage } from './errors.js';
import type { PodProgrammer, ProgramResult } from './programmer.js';

export type Timers = LoopTimers;

/**
 * program: the pod should hold VIPs. cleanup: it held VIPs (or may, after a restart) and
 * should hold none; a namespace that is gone counts as clean.
 */
export type VisitPurpose = 'program' | 'cleanup';

export type PodOutcome =
  | { readonly kind: 'programmed'; readonly target: PodTarget; readonly purpose: VisitPurpose; readonly result: ProgramResult }
  | {
      readonly kind: 'failed';
      readonly target: PodTarget;
      readonly purpose: VisitPurpose;
      readonly error: PodTunnelError;
      /** Failed attempts in a row for this pod. */
      readonly attempts: number;
      readonly retryInMs: number;
      /** The reason or message differs from the previous failure (or it is the first): worth an Event. */
      readonly changed: boolean;
    };

export interface PassReport {
  readonly durationMs: number;
  /** Pods visited in this pass. */
  readonly visited: number;
  /** Pods whose namespace was changed. */
  readonly changed: number;
  readonly failed: number;
  readonly skipped: readonly SkippedPod[];
  /** Totals after the pass. */
  readonly pods: { readonly programmed: number; readonly failing: number; readonly vips: number };
}

export interface EndpointControllerOptions {
  /** A snapshot of the desired state, built from the informer caches. */
  readonly desired: () => DesiredPods;
  readonly programmer: PodProgrammer;
  /** Re-read every programmed pod this often (repairs drift). */
  readonly resyncMs: number;
  /** Quiet period that merges a burst of events into one pass. Default 100 ms. */
  readonly debounceMs?: number;
  /** Per-pod retry backoff after a failure: doubles from min to max. Default 1 s → 5 min. */
  readonly retryMs?: { readonly min: number; readonly max: number };
  /** Pods programmed at once. Default 4. */
  readonly concurrency?: number;
  readonly timers?: Timers;
  readonly now?: () => number;
  readonly onPod?: (outcome: PodOutcome) => void;
  readonly onPass?: (report: PassReport) => void;
  readonly onError?: (error: Error) => void;
  /** readiness() stays true through failed passes for this long (PassLoop's failureGraceMs). */
  readonly failureGraceMs?: number;
}

interface PodState {
  /** Desired state last attempted (podIP + VIPs). */
  readonly fingerprint: string;
  /** VIPs the pod holds (as last applied); empty while only cleanup is pending. */
  readonly vips: readonly string[];
  readonly failure?: { readonly reason: string; readonly message: string; readonly attempts: number; readonly retryAt: number };
}

function fingerprint(t: PodTarget): string {
  return `${t.podIP}|${t.vips.join(',')}`;
}

/**
 * Keeps every pod's tunl0 as desired. Events only mark the state dirty; one pass at a time
 * visits the pods whose desired state changed, whose retry is due, whose pod object changed
 * (touch), or (on a resync) all that hold VIPs. The first pass also visits pods with nothing desired, to remove VIPs left from
 * before a restart. A failing pod is retried on its own backoff, never more often, and its
 * state is dropped when the pod leaves the node; a pass never fails because one pod does.
 */
export class EndpointController {
  private readonly state = new Map<string, PodState>();
  private touched = new Set<string>();
  private readonly timers: Timers;
  private readonly now: () => number;
  private readonly retry: { min: number; max: number };
  private readonly concurrency: number;
  private readonly loop: PassLoop;
  /** Wakes the loop when the earliest failing pod's retry is due. */
  private retryTimer: unknown;
  private fullPending = true;
  private scanPending = true;
  private readyFlag = false;

  constructor(private readonly options: EndpointControllerOptions) {
    this.timers = options.timers ?? realTimers;
    this.now = options.now ?? Date.now;
    this.retry = options.retryMs ?? { min: 1000, max: 300_000 };
    this.concurrency = Math.max(1, options.concurrency ?? 4);
    this.loop = new PassLoop({
      // (A pass that fails as a whole — desired() threw — is retried with the same backoff as a pod.)
      pass: async () => {
        await this.reconcile();
        this.armRetry();
      },
      onResync: () => {
        this.fullPending = true;
      },
      resyncMs: options.resyncMs,
      debounceMs: options.debounceMs ?? 100,
      backoffMs: this.retry,
      timers: this.timers,
      ...(options.onError ? { onError: options.onError } : {}),
      ...(options.failureGraceMs !== undefined ? { failureGraceMs: options.failureGraceMs } : {}),
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

  /** First pass now (call once the caches are synced), then on events, retries and resyncs. */
  start(): void {
    this.loop.start();
  }

  markDirty(): void {
    this.loop.markDirty();
  }

  /**
   * The pod object changed (any update: container restarts, status): look at its namespace
   * again in the next pass even if its VIPs and IP did not change — a sandbox recreated with
   * the same IP is a new, empty namespace.
   */
  touch(uid: string): void {
    this.touched.add(uid);
    this.markDirty();
  }

  /** A pass has completed since start (individual pods may still be failing). */
  get ready(): boolean {
    return this.readyFlag;
  }

  /** Stop scheduling and wait for a pass in progress. Namespaces are left as they are. */
  async stop(): Promise<void> {
    await this.loop.stop();
    this.timers.clearTimeout(this.retryTimer); // (after the pass: it may have armed it)
  }

  private armRetry(): void {
    this.timers.clearTimeout(this.retryTimer);
    let next = Infinity;
    for (const s of this.state.values()) if (s.failure && s.failure.retryAt < next) next = s.failure.retryAt;
    if (next === Infinity) return;
    this.retryTimer = this.timers.setTimeout(() => this.markDirty(), Math.max(0, next - this.now()));
  }

  private async reconcile(): Promise<void> {
    const started = this.now();
    const desired = this.options.desired();
    const full = this.fullPending;
    const scan = this.scanPending;
    const touched = this.touched;
    this.fullPending = false;
    this.touched = new Set();

    // Pods that left (deleted, finished, now opted out or hostNetwork): forget them.
    for (const uid of [...this.state.keys()]) if (!desired.pods.has(uid)) this.state.delete(uid);

    const visits: { target: PodTarget; purpose: VisitPurpose }[] = [];
    for (const target of desired.pods.values()) {
      const s = this.state.get(target.uid);
      const purpose: VisitPurpose = target.vips.length > 0 ? 'program' : 'cleanup';
      const changed = s === undefined || s.fingerprint !== fingerprint(target);
      let visit: boolean;
      if (s === undefined) visit = purpose === 'program' || scan;
      else if (s.failure) visit = changed || started >= s.failure.retryAt;
      else visit = changed || ((full || touched.has(target.uid)) && s.vips.length > 0);
      if (visit) visits.push({ target, purpose });
    }

    let changedPods = 0;
    let failedPods = 0;
    await runLimited(visits, this.concurrency, async ({ target, purpose }) => {
      const previous = this.state.get(target.uid);
      try {
        const result = await this.options.programmer.program(target);
        if (target.vips.length > 0) this.state.set(target.uid, { fingerprint: fingerprint(target), vips: target.vips });
        else this.state.delete(target.uid);
        if (result.ops.length > 0) changedPods++;
        this.options.onPod?.({ kind: 'programmed', target, purpose, result });
      } catch (e) {
        const error = e instanceof PodTunnelError ? e : new PodTunnelError('NetlinkFailed', errorMessage(e), { cause: e });
        if (purpose === 'cleanup' && error.reason === 'NetnsNotFound') {
          // Nothing left to clean: the VIPs went with the namespace.
          this.state.delete(target.uid);
          return;
        }
        failedPods++;
        const fp = fingerprint(target);
        const attempts = previous?.failure && previous.fingerprint === fp ? previous.failure.attempts + 1 : 1;
        const retryInMs = Math.min(this.retry.min * 2 ** (attempts - 1), this.retry.max);
        const changed = previous?.failure?.reason !== error.reason || previous.failure.message !== error.message;
        this.state.set(target.uid, {
          fingerprint: fp,
          vips: previous?.vips ?? [],
          failure: { reason: error.reason, message: error.message, attempts, retryAt: this.now() + retryInMs },
        });
        this.options.onPod?.({ kind: 'failed', target, purpose, error, attempts, retryInMs, changed });
      }
    });
    this.scanPending = false;
    this.readyFlag = true;

    let programmed = 0;
    let failing = 0;
    let vips = 0;
    for (const s of this.state.values()) {
      if (s.failure) failing++;
      else if (s.vips.length > 0) {
        programmed++;
        vips += s.vips.length;
      }
    }
    this.options.onPass?.({
      durationMs: this.now() - started,
      visited: visits.length,
      changed: changedPods,
      failed: failedPods,
      skipped: desired.skipped,
      pods: { programmed, failing, vips },
    });
  }
}

async function runLimited<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const item = items[next++] as T;
      await fn(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}
