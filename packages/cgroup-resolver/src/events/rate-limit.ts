// Which events become log lines: a sample (every event with probability `sample`), then a
// token bucket (at most `perSecond` a second, bursts up to `burst`). Pure; clock and random
// are injected.

export interface LogLimitOptions {
  /** Share of events considered, 0..1. */
  readonly sample: number;
  /** Lines per second at most; 0 = none; Infinity = no limit. */
  readonly perSecond: number;
  /** Bucket size; default max(1, perSecond). */
  readonly burst?: number;
  readonly now?: () => number;
  readonly random?: () => number;
}

export class LogLimiter {
  private tokens: number;
  private last: number;
  private readonly burst: number;
  private readonly now: () => number;
  private readonly random: () => number;

  constructor(private readonly options: LogLimitOptions) {
    if (!(options.sample >= 0 && options.sample <= 1)) throw new RangeError(`sample must be within 0..1, got ${options.sample}`);
    if (!(options.perSecond >= 0)) throw new RangeError(`perSecond must be ≥ 0, got ${options.perSecond}`);
    this.burst = options.burst ?? Math.max(1, options.perSecond);
    if (!(this.burst >= 1)) throw new RangeError(`burst must be ≥ 1, got ${this.burst}`);
    this.now = options.now ?? Date.now;
    this.random = options.random ?? Math.random;
    this.tokens = this.burst;
    this.last = this.now();
  }

  /** True when this event may be logged (takes a token). */
  admit(): boolean {
    if (this.options.perSecond === 0) return false;
    if (this.options.sample < 1 && this.random() >= this.options.sample) return false;
    if (this.options.perSecond === Number.POSITIVE_INFINITY) return true;
    const t = this.now();
    this.tokens = Math.min(this.burst, this.tokens + (Math.max(0, t - this.last) / 1000) * this.options.perSecond);
    this.last = t;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}
