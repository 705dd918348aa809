// Raw-table NOTRACK rules that follow the director's VIP ranges (the VipPools' and --vip-cidr,
// which change at run time). A NotrackGuard writes and re-asserts one set of CIDRs; when the
// ranges change, a guard for the new set takes over (it flushes and refills balanced's own
// chain in one transaction, so ranges that went are no longer untracked). Every guard counts
// into the same counters, registered once: they never restart.
import type { Registry } from 'prom-client';
import { NotrackGuard, createNotrackCounters, type NotrackCounters, type NotrackOptions } from './notrack.js';

const keyOf = (cidrs: readonly string[]): string => [...new Set(cidrs)].sort().join(',');

export class NotrackRanges {
  private guard: NotrackGuard | undefined;
  private written: string | undefined;
  private wanted: readonly string[] | undefined;
  private queue: Promise<void> = Promise.resolve();
  private readonly counters: NotrackCounters = createNotrackCounters();

  constructor(
    private readonly options: NotrackOptions,
    /** Where the guards' counters go (the controller's /metrics registry). */
    registry: Registry,
  ) {
    registry.registerMetric(this.counters.reasserted);
    registry.registerMetric(this.counters.failures);
  }

  /**
   * Write the rules for these CIDRs (nothing when they are the ones written). Calls run one
   * after the other. Rejects when a kept family cannot be written (the previous rules stay).
   */
  set(cidrs: readonly string[]): Promise<void> {
    this.wanted = cidrs;
    const run = async (): Promise<void> => {
      const key = keyOf(cidrs);
      if (this.guard !== undefined && key === this.written) return;
      const guard = new NotrackGuard(cidrs, { ...this.options, counters: this.counters });
      await guard.install();
      this.guard = guard;
      this.written = key;
    };
    const next = this.queue.then(run);
    this.queue = next.catch(() => undefined);
    return next;
  }

  /**
   * Write the last ranges asked for if that failed before (rejects again if it fails again),
   * then re-assert the rules written (NotrackGuard.check: never throws). Nothing before the first set().
   */
  async check(): Promise<void> {
    await this.queue;
    if (this.wanted !== undefined && keyOf(this.wanted) !== this.written) await this.set(this.wanted);
    await this.guard?.check();
  }
}
