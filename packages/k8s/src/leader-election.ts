// Leader election on a coordination.k8s.io/v1 Lease, the way client-go's leaderelection
// package does it, for any controller that must have a single writer:
//
// - Every `retryPeriodMs` a candidate reads the Lease. It takes the Lease when nobody holds
//   it (absent, or holderIdentity ''), or when the holder has not renewed for
//   leaseDurationSeconds. "Not renewed" is measured on OUR clock from the moment we last saw
//   the Lease change (its resourceVersion), never by comparing renewTime with our clock, so
//   clock skew between replicas does not matter.
// - Every write (create, take over, renew, release) is a create or a replace carrying the
//   resourceVersion we read: when two candidates race, the API server accepts one and answers
//   409 Conflict to the other.
// - The leader renews every retryPeriodMs. When renewals keep failing for renewDeadlineMs it
//   stops leading (onStoppedLeading), before the Lease can expire for the others
//   (renewDeadline < leaseDuration); when it reads the Lease and finds another holder, it
//   stops at once. isLeader() turns false by itself once the last successful renewal is
//   renewDeadlineMs old, even if a request hangs: check it right before each write.
// - stop() stops leading and, by default, releases the Lease (holderIdentity '') so another
//   replica takes over at its next attempt instead of waiting for the Lease to expire.
// Unlike client-go, losing the Lease does not end the elector: it becomes a candidate again.

import { ApiException, CoordinationV1Api, Observable, V1MicroTime } from '@kubernetes/client-node';
import type { ConfigurationOptions, KubeConfig, ObservableMiddleware, V1Lease } from '@kubernetes/client-node';

/** Injectable clock and timers (tests drive them); defaults are the global ones. */
export interface LeaderElectionTimers {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export interface LeaderElectorOptions {
  /** Namespace of the Lease. */
  namespace: string;
  /** Name of the Lease, shared by every replica of one controller. */
  name: string;
  /** This replica's identity (pod name, hostname); unique among the replicas. */
  identity: string;
  /** How long a Lease is valid after its last renewal, as seen by the others. Default 15. */
  leaseDurationSeconds?: number;
  /** The leader stops leading when it could not renew for this long. Default 10 000. */
  renewDeadlineMs?: number;
  /** Time between attempts (to acquire, or to renew). Default 2000. */
  retryPeriodMs?: number;
  /** Candidates wait retryPeriodMs × (1 + jitter × random) between attempts. Default 0.2. */
  jitter?: number;
  /** Per-request timeout, so a hung connection cannot stall the loop. Default renewDeadlineMs. */
  requestTimeoutMs?: number;
  /** Release the Lease in stop() when we hold it. Default true. */
  releaseOnStop?: boolean;
  timers?: Partial<LeaderElectionTimers>;
  random?: () => number;
  onStartedLeading?: () => void;
  /** Called once per term: on losing the Lease, failing to renew, or stop(). */
  onStoppedLeading?: () => void;
  /** The holder we observed changed ('' = nobody holds it). */
  onNewLeader?: (identity: string) => void;
  /** An attempt failed (network, 5xx, 409…); the elector keeps going. For logging. */
  onError?: (error: Error) => void;
}

export interface LeaderElectorStats {
  /** Attempts completed (successful or not). */
  attempts: number;
  /** Terms started. */
  acquisitions: number;
  /** Successful renewals of a Lease we already held. */
  renewals: number;
  /** Terms ended (lost, renew deadline passed, or stop()). */
  losses: number;
  /** Writes refused with 409 Conflict (another replica wrote first). */
  conflicts: number;
  /** Attempts that failed with an error (409 included). */
  failures: number;
  lastError?: string;
}

export const DEFAULT_LEASE_DURATION_SECONDS = 15;
export const DEFAULT_RENEW_DEADLINE_MS = 10_000;
export const DEFAULT_RETRY_PERIOD_MS = 2_000;

type Attempt =
  | { readonly kind: 'held' }
  | { readonly kind: 'other'; readonly holder: string }
  | { readonly kind: 'failed'; readonly error: Error };

export class LeaderElector {
  private readonly api: CoordinationV1Api;
  private readonly timers: LeaderElectionTimers;
  private readonly random: () => number;
  private readonly leaseDurationSeconds: number;
  private readonly renewDeadlineMs: number;
  private readonly retryPeriodMs: number;
  private readonly jitter: number;
  private readonly requestTimeoutMs: number;
  private readonly counters: LeaderElectorStats = { attempts: 0, acquisitions: 0, renewals: 0, losses: 0, conflicts: 0, failures: 0 };

  private started = false;
  private stopped = false;
  private leading = false;
  /** Clock time the attempt that last renewed (or took) the Lease started. */
  private lastRenewAt = -Infinity;
  /** The Lease as last read or written. */
  private observed: V1Lease | undefined;
  /** Clock time we saw `observed` change (resourceVersion); expiry is measured from here. */
  private observedAt = -Infinity;
  private observedHolder: string | undefined;
  private timer: unknown;
  private deadlineTimer: unknown;
  private inflight: Promise<void> | undefined;

  constructor(
    kc: KubeConfig,
    private readonly options: LeaderElectorOptions,
  ) {
    this.api = kc.makeApiClient(CoordinationV1Api);
    this.timers = {
      now: options.timers?.now ?? (() => Date.now()),
      setTimeout: options.timers?.setTimeout ?? ((fn, ms) => setTimeout(fn, ms)),
      clearTimeout: options.timers?.clearTimeout ?? ((h) => clearTimeout(h as ReturnType<typeof setTimeout>)),
    };
    this.random = options.random ?? Math.random;
    this.leaseDurationSeconds = options.leaseDurationSeconds ?? DEFAULT_LEASE_DURATION_SECONDS;
    this.renewDeadlineMs = options.renewDeadlineMs ?? DEFAULT_RENEW_DEADLINE_MS;
    this.retryPeriodMs = options.retryPeriodMs ?? DEFAULT_RETRY_PERIOD_MS;
    this.jitter = options.jitter ?? 0.2;
    this.requestTimeoutMs = options.requestTimeoutMs ?? this.renewDeadlineMs;
    if (options.identity === '') throw new RangeError('leader election: identity must not be empty');
    if (!(Number.isInteger(this.leaseDurationSeconds) && this.leaseDurationSeconds >= 1)) {
      throw new RangeError(`leader election: leaseDurationSeconds must be a positive integer, got ${this.leaseDurationSeconds}`);
    }
    if (!(this.leaseDurationSeconds * 1000 > this.renewDeadlineMs && this.renewDeadlineMs > this.retryPeriodMs && this.retryPeriodMs > 0)) {
      throw new RangeError(
        `leader election: need leaseDuration (${this.leaseDurationSeconds * 1000} ms) > renewDeadline (${this.renewDeadlineMs} ms) > retryPeriod (${this.retryPeriodMs} ms) > 0`,
      );
    }
  }

  get identity(): string {
    return this.options.identity;
  }

  /** Start campaigning (the first attempt runs at once). */
  start(): void {
    if (this.started || this.stopped) return;
    this.started = true;
    this.schedule(0);
  }

  /**
   * We hold the Lease and renewed it less than renewDeadlineMs ago. Check right before
   * every write that only the leader may make.
   */
  isLeader(): boolean {
    return this.leading && this.timers.now() - this.lastRenewAt < this.renewDeadlineMs;
  }

  /** The holder we last observed ('' when nobody holds it; undefined before the first read). */
  leader(): string | undefined {
    return this.observedHolder;
  }

  stats(): LeaderElectorStats {
    return { ...this.counters };
  }

  /**
   * Stop campaigning. When leading: onStoppedLeading, then (releaseOnStop) release the Lease.
   * Stop writing before calling this, so nobody else leads while a write of ours is in flight.
   */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.timers.clearTimeout(this.timer);
    this.timers.clearTimeout(this.deadlineTimer);
    await this.inflight;
    this.stopLeading();
    // Also when an attempt in flight took the Lease just as we stopped: release() checks
    // that the Lease we last saw names us.
    if (this.options.releaseOnStop ?? true) await this.release();
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    this.timer = this.timers.setTimeout(() => {
      this.timer = undefined;
      this.inflight = this.tick();
    }, ms);
  }

  private async tick(): Promise<void> {
    const startedAt = this.timers.now();
    let attempt: Attempt;
    try {
      attempt = await this.tryAcquireOrRenew(startedAt);
    } catch (err) {
      attempt = { kind: 'failed', error: asError(err) };
    }
    this.counters.attempts++;
    this.inflight = undefined;
    if (this.stopped) return;
    switch (attempt.kind) {
      case 'held':
        this.lastRenewAt = startedAt;
        if (this.leading) {
          this.counters.renewals++;
        } else {
          this.leading = true;
          this.counters.acquisitions++;
          this.call(this.options.onStartedLeading);
        }
        this.armDeadline();
        break;
      case 'other':
        this.stopLeading();
        break;
      case 'failed':
        this.counters.failures++;
        this.counters.lastError = attempt.error.message;
        if (isConflict(attempt.error)) this.counters.conflicts++;
        this.call(this.options.onError === undefined ? undefined : () => this.options.onError?.(attempt.error));
        if (this.leading && this.timers.now() - this.lastRenewAt >= this.renewDeadlineMs) this.stopLeading();
        break;
    }
    const wait = this.leading ? this.retryPeriodMs : Math.round(this.retryPeriodMs * (1 + this.jitter * this.random()));
    this.schedule(wait);
  }

  /** While leading: step down once renewDeadlineMs passes without a renewal, whatever is in flight. */
  private armDeadline(): void {
    this.timers.clearTimeout(this.deadlineTimer);
    const due = this.lastRenewAt + this.renewDeadlineMs - this.timers.now();
    this.deadlineTimer = this.timers.setTimeout(
      () => {
        this.deadlineTimer = undefined;
        if (this.leading && this.timers.now() - this.lastRenewAt >= this.renewDeadlineMs) this.stopLeading();
      },
      Math.max(0, due),
    );
  }

  private stopLeading(): void {
    this.timers.clearTimeout(this.deadlineTimer);
    if (!this.leading) return;
    this.leading = false;
    this.counters.losses++;
    this.call(this.options.onStoppedLeading);
  }

  private async tryAcquireOrRenew(now: number): Promise<Attempt> {
    const { name, namespace, identity } = this.options;
    let lease: V1Lease;
    try {
      lease = await this.api.readNamespacedLease({ name, namespace }, this.requestOptions());
    } catch (err) {
      if (!(err instanceof ApiException && err.code === 404)) throw err;
      const created = await this.api.createNamespacedLease(
        { namespace, body: { metadata: { name, namespace }, spec: this.spec(now, true, 0) } },
        this.requestOptions(),
      );
      this.observe(created, now);
      return { kind: 'held' };
    }
    this.observe(lease, now);
    const holder = lease.spec?.holderIdentity ?? '';
    const durationMs = positiveOr(lease.spec?.leaseDurationSeconds, this.leaseDurationSeconds) * 1000;
    if (holder !== '' && holder !== identity && now < this.observedAt + durationMs) return { kind: 'other', holder };

    const taking = holder !== identity;
    const transitions = lease.spec?.leaseTransitions ?? 0;
    const body: V1Lease = {
      ...lease,
      spec: {
        ...lease.spec,
        ...this.spec(now, taking, taking ? transitions + 1 : transitions),
        ...(taking ? {} : { acquireTime: lease.spec?.acquireTime ?? new V1MicroTime(now) }),
      },
    };
    const written = await this.api.replaceNamespacedLease({ name, namespace, body }, this.requestOptions());
    this.observe(written, now);
    return { kind: 'held' };
  }

  private spec(now: number, acquiring: boolean, transitions: number): NonNullable<V1Lease['spec']> {
    return {
      holderIdentity: this.options.identity,
      leaseDurationSeconds: this.leaseDurationSeconds,
      renewTime: new V1MicroTime(now),
      ...(acquiring ? { acquireTime: new V1MicroTime(now) } : {}),
      leaseTransitions: transitions,
    };
  }

  /** Give the Lease up (holderIdentity '', 1 s), only if it is still ours; never throws. */
  private async release(): Promise<void> {
    const lease = this.observed;
    if (lease === undefined || lease.spec?.holderIdentity !== this.options.identity) return;
    const now = this.timers.now();
    const body: V1Lease = {
      ...lease,
      spec: { ...lease.spec, holderIdentity: '', leaseDurationSeconds: 1, renewTime: new V1MicroTime(now), acquireTime: new V1MicroTime(now) },
    };
    try {
      const written = await this.api.replaceNamespacedLease({ name: this.options.name, namespace: this.options.namespace, body }, this.requestOptions());
      this.observe(written, now);
    } catch (err) {
      // 409: someone else wrote the Lease since our last renewal, so it is not ours to release.
      const error = asError(err);
      this.counters.failures++;
      this.counters.lastError = error.message;
      if (isConflict(error)) this.counters.conflicts++;
      this.call(this.options.onError === undefined ? undefined : () => this.options.onError?.(error));
    }
  }

  private observe(lease: V1Lease, now: number): void {
    const changed = lease.metadata?.resourceVersion !== this.observed?.metadata?.resourceVersion || this.observed === undefined;
    this.observed = lease;
    if (!changed) return;
    this.observedAt = now;
    const holder = lease.spec?.holderIdentity ?? '';
    if (holder !== this.observedHolder) {
      this.observedHolder = holder;
      const notify = this.options.onNewLeader;
      if (notify !== undefined) this.call(() => notify(holder));
    }
  }

  /** Every request carries a timeout: a hung connection must not stall the loop. */
  private requestOptions(): ConfigurationOptions<ObservableMiddleware> {
    const timeoutMs = this.requestTimeoutMs;
    const timeout: ObservableMiddleware = {
      pre: (context) => {
        context.setSignal(AbortSignal.timeout(timeoutMs));
        return new Observable(Promise.resolve(context));
      },
      post: (response) => new Observable(Promise.resolve(response)),
    };
    return { middleware: [timeout], middlewareMergeStrategy: 'append' };
  }

  /** User callbacks must not break the loop. */
  private call(fn: (() => void) | undefined): void {
    if (fn === undefined) return;
    try {
      fn();
    } catch (err) {
      this.counters.lastError = `callback threw: ${asError(err).message}`;
    }
  }
}

function positiveOr(value: number | undefined, fallback: number): number {
  return typeof value === 'number' && Number.isFinite(value) && value > 0 ? value : fallback;
}

function isConflict(err: Error): boolean {
  const cause = err instanceof ApiException ? err : err.cause;
  return cause instanceof ApiException && cause.code === 409;
}

function asError(err: unknown): Error {
  if (err instanceof ApiException) {
    const body: unknown = err.body;
    const text = typeof body === 'string' ? body : JSON.stringify(body);
    return Object.assign(new Error(`HTTP ${err.code}: ${text}`), { cause: err, code: err.code }) as Error;
  }
  return err instanceof Error ? err : new Error(String(err));
}
