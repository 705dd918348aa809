// Raw-table NOTRACK rules that follow the director's VIP ranges (the VipPools' and --vip-cidr,
// which change at run time). A NotrackGuard writes and re-asserts one set of CIDRs; when the
// ranges change, a guard for the new set takes over (it flushes and refills balanced's own
// chain in one transaction, so ranges that went are no longer untracked). Its counters are
// registered in place of the previous guard's, so they restart from 0 then (a counter reset,
// which Prometheus handles).
import type { Metric, Registry } from 'prom-client';
import { NotrackGuard, type NotrackOptions } from './notrack.js';

const nameOf = (m: Metric): string => (m as unknown as { name: string }).name;
const keyOf = (cidrs: readonly string[]): string => [...new Set(cidrs)].sort().join(',');

export class NotrackRanges {
  private guard: NotrackGuard | undefined;
  private written: string | undefined;
  private wanted: readonly string[] | undefined;
  private queue: Promise<void> = Promise.resolve();

  constructor(
    private readonly options: NotrackOptions,
    /** Where the guard's counters go (the controller's /metrics registry). */
    private readonly registry: Registry,
  ) {}

  /**
   * Write the rules for these CIDRs (nothing when they are the ones written). Calls run one
   * after the other. Rejects when a kept family cannot be written (the previous rules stay).
   */
  set(cidrs: readonly string[]): Promise<void> {
    this.wanted = cidrs;
    const run = async (): Promise<void> => {
      const key = keyOf(cidrs);
      if (this.guard !== undefined && key === this.written) return;
      const guard = new NotrackGuard(cidrs, this.options);
      await guard.install();
      for (const m of [...(this.guard?.metrics() ?? []), ...guard.metrics()]) this.registry.removeSingleMetric(nameOf(m));
      for (const m of guard.metrics()) this.registry.registerMetric(m);
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
