// The allocator's loop (DESIGN.md's controller pattern): events only mark it dirty; one
// worker takes a snapshot (informer cache + read-your-writes overlay), plans with the pure
// core, and, on the leader only, writes the status changes one by one, each guarded by the
// resourceVersion it was planned from. A 409 means the plan's view of that Service is stale:
// the Service is re-read and the rest of the pass is dropped and planned again, since other
// decisions of the pass may depend on it. A write the API server refuses (403, 422, a
// webhook's denial) is about that Service alone: it gets a Warning Event and the pass goes on
// with the others (it is tried again next pass). Any other failed write (5xx, network) does not
// stop the pass either; the pass then fails at its end, so the loop retries with backoff.
// Every replica plans (for metrics); only the leader writes or records Events, and it checks
// that it still leads right before every write.

import type { V1LoadBalancerIngress, V1Service } from '@kubernetes/client-node';
import { PassLoop, type LoopTimers, type PassOutcome, type ProbeResult } from '@balanced/k8s';

import { canonicalIp } from '@balanced/net';
import type { AllocationFailure, AllocationPlan, OutsidePoolAddress, StatusChange } from './allocate.js';
import { allocate } from './allocate.js';
import type { AllocatorMetrics } from './metrics.js';
import { OncePerAppearance } from './once-per-appearance.js';
import { ServiceOverlay } from './overlay.js';
import type { VipPool } from './pool.js';
import { asArray, asString, prop } from './read.js';
import { describeService } from './service-input.js';
import type { ServiceStatusApi, WriteResult } from './status-api.js';

export interface EventTarget {
  kind: string;
  namespace?: string;
  name: string;
  uid?: string;
  apiVersion?: string;
}

/** Where Events go (an EventRecorder from @balanced/k8s in production). Must not reject. */
export interface EventSink {
  record(involved: EventTarget, type: 'Normal' | 'Warning', reason: string, message: string): Promise<void>;
}

export type Timers = LoopTimers;

export interface AllocatorOptions {
  /** Services from the informer cache. */
  readonly services: () => readonly V1Service[];
  /** The valid pools to plan with. */
  readonly pools: () => readonly VipPool[];
  /** Both caches have listed: no pass runs before (an empty pool list would release everything). */
  readonly synced: () => boolean;
  readonly api: ServiceStatusApi;
  readonly defaultClass: boolean;
  /** Checked before every write; a LeaderElector's isLeader in production. */
  readonly isLeader: () => boolean;
  readonly events?: EventSink;
  readonly metrics?: AllocatorMetrics;
  /** Quiet period that merges a burst of events into one pass. Default 20 ms. */
  readonly debounceMs?: number;
  /** The leader re-lists every Service from the API server this often. Default 60 s. */
  readonly resyncMs?: number;
  /** Retry after a failed pass: doubles from min to max. Default 200 → 30 000 ms. */
  readonly backoffMs?: { readonly min: number; readonly max: number };
  readonly timers?: Timers;
  readonly now?: () => number;
  readonly onPass?: (report: PassReport) => void;
  readonly onError?: (error: Error) => void;
  /**
   * Runs at the end of every leader pass that kept the lead (e.g. LastAcceptedRecorder.record),
   * whether or not its status writes failed, with the Services as this replica knows them (the
   * cache plus the answers to its own writes, so their resourceVersions are current). Must not
   * reject (a rejection goes to onError and does not fail the pass).
   */
  readonly afterLeaderPass?: (services: readonly V1Service[]) => Promise<void>;
  /** readiness() stays true through failed passes for this long (PassLoop's failureGraceMs). */
  readonly failureGraceMs?: number;
}

export interface PassReport {
  /** Wrote as the leader (false: planned only). */
  readonly leader: boolean;
  readonly plan: AllocationPlan;
  /** Status writes that succeeded. */
  readonly written: readonly StatusChange[];
  /** Writes refused with 409 (the pass then stopped and another was scheduled). */
  readonly conflicts: number;
  /** Writes to Services that were gone. */
  readonly gone: number;
  /** Writes the API server refused (each reported as a StatusWriteRefused Event once per appearance). */
  readonly refused: readonly RefusedWrite[];
  /** Writes that failed otherwise (the pass then fails, after trying every other write). */
  readonly errors: readonly Error[];
  /** Leadership was lost during the pass: the remaining writes were dropped. */
  readonly abandoned: boolean;
  /** Failures reported as Events in this pass (new since the previous pass). */
  readonly newFailures: readonly AllocationFailure[];
  readonly durationMs: number;
}

export interface RefusedWrite {
  readonly change: StatusChange;
  readonly code: number;
  readonly message: string;
}

export const ALLOCATION_FAILED = 'AllocationFailed';
export const STATUS_WRITE_REFUSED = 'StatusWriteRefused';
export const ADDRESS_OUTSIDE_POOLS = 'AddressOutsidePools';

/** Thrown at the end of a pass whose writes failed for reasons other than a refusal. */
export class StatusWriteError extends Error {
  override readonly name = 'StatusWriteError';
  constructor(readonly errors: readonly Error[]) {
    super(`${errors.length} status write(s) failed: ${errors.map((e) => e.message).join('; ')}`);
  }
}

export class Allocator {
  private readonly overlay = new ServiceOverlay();
  private readonly failures = new OncePerAppearance<AllocationFailure>((f) => `${f.uid}|${f.key}|${f.reason}|${f.message}`);
  private readonly refusals = new OncePerAppearance<RefusedWrite>((r) => `${r.change.uid}|${r.code}|${r.message}`);
  private readonly outside = new OncePerAppearance<OutsidePoolAddress>((o) => `${o.uid}|${o.ip}`);
  private readonly now: () => number;
  private readonly pendingEvents = new Set<Promise<void>>();
  private readonly loop: PassLoop;
  /** The next leader pass lists every Service from the API server first. */
  private relist = true;
  private passes = 0;

  constructor(private readonly options: AllocatorOptions) {
    this.now = options.now ?? (() => Date.now());
    this.loop = new PassLoop({
      pass: () => this.scheduledPass(),
      onResync: () => {
        this.relist = true;
      },
      resyncMs: options.resyncMs ?? 60_000,
      debounceMs: options.debounceMs ?? 20,
      backoffMs: options.backoffMs ?? { min: 200, max: 30_000 },
      ...(options.timers ? { timers: options.timers } : {}),
      ...(options.onError ? { onError: options.onError } : {}),
      ...(options.failureGraceMs !== undefined ? { failureGraceMs: options.failureGraceMs } : {}),
    });
  }

  /** The loop's readiness (health.ts): a pass has succeeded and passes have not kept failing. */
  readiness(): ProbeResult {
    return this.loop.readiness();
  }

  /** The loop's liveness (health.ts): no pass has been running for too long. */
  liveness(): ProbeResult {
    return this.loop.liveness();
  }

  /** Passes run from now on (on events, leadership changes, and every resync period). */
  start(): void {
    this.loop.start();
  }

  /** Stop scheduling; waits for a pass in progress and for Events being sent. */
  async stop(): Promise<void> {
    await this.loop.stop();
    await Promise.allSettled([...this.pendingEvents]);
  }

  /**
   * Something changed: a pass runs once the debounce has passed since the first change not
   * yet planned. Later changes do not push it back, so constant churn cannot starve passes.
   */
  markDirty(): void {
    this.loop.markDirty();
  }

  /** The Service cache delivered a change (with the object) or (re)listed (without). */
  observeService(object: V1Service | undefined): void {
    this.overlay.observe(object, this.options.services());
    this.markDirty();
  }

  /** This replica became the leader: rebuild from a fresh list of every Service, then plan. */
  leadershipStarted(): void {
    this.relist = true;
    this.options.metrics?.setLeader(true);
    this.markDirty();
  }

  leadershipStopped(): void {
    this.failures.reset();
    this.refusals.reset();
    this.outside.reset();
    this.options.metrics?.setLeader(false);
  }

  /** Passes run so far (tests wait on it). */
  get passCount(): number {
    return this.passes;
  }

  /** One pass now, outside the schedule (tests, a CLI). */
  async runOnce(): Promise<PassReport | undefined> {
    return this.pass();
  }

  /** A scheduled pass: after a failure the next lists every Service again; a lost write race means another pass. */
  private async scheduledPass(): Promise<PassOutcome> {
    try {
      const report = await this.pass();
      return { again: report !== undefined && report.conflicts > 0 };
    } catch (e) {
      this.relist = true;
      throw e;
    }
  }

  private async pass(): Promise<PassReport | undefined> {
    if (!this.options.synced()) return undefined;
    const started = this.now();
    const leading = this.options.isLeader();
    if (leading && this.relist) {
      this.overlay.seed(await this.options.api.list());
      this.relist = false;
    }
    const snapshot = this.overlay.merge(this.options.services());
    const byKey = new Map<string, V1Service>();
    const inputs = snapshot.map((s) => {
      const input = describeService(s, { defaultClass: this.options.defaultClass });
      byKey.set(input.key, s);
      return input;
    });
    const plan = allocate({ services: inputs, pools: this.options.pools() });
    this.options.metrics?.recordPlan(plan);
    this.passes++;

    const written: StatusChange[] = [];
    const refused: RefusedWrite[] = [];
    const errors: Error[] = [];
    let conflicts = 0;
    let gone = 0;
    let abandoned = false;
    let newFailures: AllocationFailure[] = [];
    if (leading) {
      newFailures = this.failures.fresh(plan.failures);
      for (const f of newFailures) {
        this.options.metrics?.recordFailure(f.reason);
        this.event({ kind: 'Service', apiVersion: 'v1', namespace: f.namespace, name: f.name, uid: f.uid }, 'Warning', ALLOCATION_FAILED, `${f.reason}: ${f.message}`);
      }
      for (const o of this.outside.fresh(plan.outsidePools)) {
        this.event(
          { kind: 'Service', apiVersion: 'v1', namespace: o.namespace, name: o.name, uid: o.uid },
          'Warning',
          ADDRESS_OUTSIDE_POOLS,
          `${o.ip} is in no valid VipPool (its pool was deleted, is invalid, or no longer covers it); kept because the Service uses it. ` +
            'To move the Service, set balanced.dev/ip-request or balanced.dev/ip-pool, or remove the address from its status',
        );
      }
      for (const change of plan.changes) {
        if (!this.options.isLeader()) {
          abandoned = true;
          break;
        }
        const service = byKey.get(change.key);
        let result: WriteResult;
        try {
          result = await this.options.api.writeIngress(change, ingressFor(service, change));
        } catch (err) {
          this.options.metrics?.recordWrite('error');
          errors.push(err instanceof Error ? err : new Error(String(err)));
          continue; // the others are independent of it; the pass fails at its end
        }
        if (result.kind === 'refused') {
          this.options.metrics?.recordWrite('refused');
          refused.push({ change, code: result.code, message: result.message });
        } else if (result.kind === 'written') {
          this.options.metrics?.recordWrite('ok');
          this.overlay.remember(result.service);
          written.push(change);
          this.announce(change);
        } else if (result.kind === 'gone') {
          this.options.metrics?.recordWrite('gone');
          this.overlay.forget(change.uid);
          gone++;
        } else {
          this.options.metrics?.recordWrite('conflict');
          conflicts++;
          const fresh = await this.options.api.read(change.namespace, change.name);
          if (fresh === undefined) this.overlay.forget(change.uid);
          else this.overlay.remember(fresh);
          break; // the rest of the plan may depend on this Service: plan again
        }
      }
    }
    if (leading) {
      for (const r of this.refusals.fresh(refused)) {
        const c = r.change;
        this.event(
          { kind: 'Service', apiVersion: 'v1', namespace: c.namespace, name: c.name, uid: c.uid },
          'Warning',
          STATUS_WRITE_REFUSED,
          `the API server refused to set status.loadBalancer.ingress to [${c.ips.join(', ')}] (HTTP ${r.code}): ${r.message}; other Services are not held up, this one is tried again on the next pass`,
        );
      }
    }
    if (leading && !abandoned && this.options.afterLeaderPass !== undefined && this.options.isLeader()) {
      await this.options.afterLeaderPass(this.overlay.merge(this.options.services())).catch((err: unknown) => this.options.onError?.(err instanceof Error ? err : new Error(String(err))));
    }
    const report: PassReport = { leader: leading, plan, written, conflicts, gone, refused, errors, abandoned, newFailures, durationMs: this.now() - started };
    this.options.metrics?.recordPass(report.durationMs);
    this.options.onPass?.(report);
    if (errors.length > 0) throw new StatusWriteError(errors);
    return report;
  }

  private announce(change: StatusChange): void {
    const target: EventTarget = { kind: 'Service', apiVersion: 'v1', namespace: change.namespace, name: change.name, uid: change.uid };
    if (change.assigned !== undefined) {
      this.options.metrics?.recordAllocation(change.assigned.pool);
      this.event(target, 'Normal', 'IPAllocated', `Assigned ${change.assigned.ip} from VipPool ${change.assigned.pool}`);
    }
    const released = change.released.filter((ip) => ip !== '');
    if (released.length > 0) {
      this.options.metrics?.recordRelease(released.length);
      const why =
        change.role === 'releasable'
          ? 'the Service is no longer a LoadBalancer served by balanced'
          : change.assigned !== undefined
            ? `replaced by ${change.assigned.ip}`
            : 'no longer inside a VipPool this Service may use';
      this.event(target, 'Normal', 'IPReleased', `Released ${released.join(', ')}: ${why}`);
    }
  }

  private event(target: EventTarget, type: 'Normal' | 'Warning', reason: string, message: string): void {
    const sink = this.options.events;
    if (sink === undefined) return;
    const p = sink.record(target, type, reason, message).catch(() => undefined);
    this.pendingEvents.add(p);
    void p.then(() => this.pendingEvents.delete(p));
  }
}

/**
 * The ingress list to write: for our Services exactly the planned IPs (an existing entry for
 * the same IP is kept as it is, e.g. with its ports or ipMode); for others their entries
 * minus the released IPs.
 */
export function ingressFor(service: V1Service | undefined, change: StatusChange): V1LoadBalancerIngress[] {
  const current = asArray(prop(prop(prop(service, 'status'), 'loadBalancer'), 'ingress')) as V1LoadBalancerIngress[];
  const ipOf = (e: unknown): string => {
    const ip = asString(prop(e, 'ip'));
    return ip === undefined || ip === '' ? '' : (canonicalIp(ip) ?? ip);
  };
  if (change.role === 'releasable') return current.filter((e) => !change.released.includes(ipOf(e)) || ipOf(e) === '');
  return change.ips.map((ip) => current.find((e) => ipOf(e) === ip) ?? { ip });
}
