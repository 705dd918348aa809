import { IpvsError, IpvsUnavailable, OutcomeUnknown, PermissionDenied } from '@balanced/ipvs';

export interface ProgrammingHealthOptions {
  /** Director-level failures in a row that make the director unready (default 3). */
  readonly failuresToUnready?: number;
  /** A pass running longer than this makes the director unready (default 60 s). */
  readonly stallMs?: number;
  /** A pass running longer than this makes the process not live (default 300 s). */
  readonly liveStallMs?: number;
}

export interface HealthVerdict {
  readonly ok: boolean;
  readonly detail: string;
}

/**
 * Whether this director can program its kernel (pure, time passed in). Ready once a pass
 * fully applied, and as long as passes keep completing: a run of director-level failures (the
 * kernel table cannot be read, IPVS is gone, permission denied, outcomes unknown) or a pass
 * stuck past `stallMs` turns it unready, so the announcer stops advertising this director.
 * A service whose ops the kernel refuses is not director-level: it is isolated and retried on
 * its own (every director would refuse it alike; withdrawing them all would help nobody).
 * Live = the loop makes progress (no pass stuck past `liveStallMs`).
 */
export class ProgrammingHealth {
  private programmed = false;
  private failuresInARow = 0;
  private lastError: string | undefined;
  private runningSince: number | undefined;
  private readonly failuresToUnready: number;
  private readonly stallMs: number;
  private readonly liveStallMs: number;

  constructor(options: ProgrammingHealthOptions = {}) {
    this.failuresToUnready = options.failuresToUnready ?? 3;
    this.stallMs = options.stallMs ?? 60_000;
    this.liveStallMs = options.liveStallMs ?? 300_000;
  }

  passStarted(now: number): void {
    this.runningSince = now;
  }

  /** The pass completed and the director could program (service-level refusals allowed). */
  passSucceeded(): void {
    this.runningSince = undefined;
    this.programmed = true;
    this.failuresInARow = 0;
    this.lastError = undefined;
  }

  /** The pass could not program this director. */
  passFailed(error: string): void {
    this.runningSince = undefined;
    this.failuresInARow += 1;
    this.lastError = error;
  }

  ready(now: number): HealthVerdict {
    if (!this.programmed) return { ok: false, detail: this.lastError ? `never programmed; last error: ${this.lastError}` : 'no pass has applied yet' };
    if (this.failuresInARow >= this.failuresToUnready) return { ok: false, detail: `${this.failuresInARow} passes in a row could not program IPVS; last error: ${this.lastError ?? ''}` };
    if (this.runningSince !== undefined && now - this.runningSince > this.stallMs) return { ok: false, detail: `a pass has been running for ${Math.round((now - this.runningSince) / 1000)} s` };
    return { ok: true, detail: this.failuresInARow > 0 ? `${this.failuresInARow} failed pass(es) in a row; last error: ${this.lastError ?? ''}` : 'kernel programmed' };
  }

  live(now: number): HealthVerdict {
    if (this.runningSince !== undefined && now - this.runningSince > this.liveStallMs) return { ok: false, detail: `a pass has been stuck for ${Math.round((now - this.runningSince) / 1000)} s` };
    return { ok: true, detail: 'loop makes progress' };
  }
}

/**
 * Failures that say the director cannot program at all, as opposed to the kernel refusing
 * one service's request (EINVAL, ENOENT, EEXIST, ESRCH, a missing scheduler module).
 */
export function isDirectorLevel(error: Error): boolean {
  return error instanceof OutcomeUnknown || error instanceof IpvsUnavailable || error instanceof PermissionDenied || !(error instanceof IpvsError);
}
