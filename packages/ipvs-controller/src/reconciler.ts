import { OutcomeUnknown, serviceKeyString, type IpvsOperation, type ServiceKey } from '@balanced/ipvs';
import type { IpvsKernel } from './kernel.js';
import type { DesiredService } from './model.js';
import { plan } from './plan.js';

export interface ReconcileReport {
  readonly ops: readonly IpvsOperation[];
  readonly failed: readonly { readonly op: IpvsOperation; readonly error: Error }[];
  /** True when some outcome is unknown: the next pass must re-read before trusting memory. */
  readonly outcomeUnknown: boolean;
  readonly durationMs: number;
  readonly vips: readonly string[];
  /** Destinations still draining (weight 0, waiting for idle or the drain period). */
  readonly pendingDrains: number;
}

export interface ReconcilerOptions {
  readonly kernel: IpvsKernel;
  readonly owns: (key: ServiceKey) => boolean;
  readonly defaultDrainSeconds: number;
  readonly now?: () => number;
  /** Called with the VIPs that must be present after each pass (e.g. to sync the dummy link). */
  readonly onVips?: (vips: readonly string[]) => Promise<void>;
}

/**
 * One pass: read the kernel (the source of truth), plan against the desired state, apply
 * the ops in one pipelined batch. Failed ops are reported and retried by the next pass;
 * the only memory kept between passes is when leaving destinations started draining.
 */
export class Reconciler {
  private drainingSince: ReadonlyMap<string, number> = new Map();
  private readonly now: () => number;

  constructor(private readonly options: ReconcilerOptions) {
    this.now = options.now ?? Date.now;
  }

  async reconcile(desired: readonly DesiredService[]): Promise<ReconcileReport> {
    const started = this.now();
    const vips = [...new Set(desired.filter((d) => this.options.owns(d.spec.key)).map((d) => ('fwmark' in d.spec.key ? '' : d.spec.key.address)).filter(Boolean))].sort();
    // VIPs first: a new service should find its address in place.
    if (this.options.onVips) await this.options.onVips(vips);
    const actual = await this.options.kernel.dump();
    const p = plan(desired, actual, { owns: this.options.owns, now: this.now(), drainingSince: this.drainingSince, defaultDrainSeconds: this.options.defaultDrainSeconds });
    this.drainingSince = p.drainingSince;
    const failed: { op: IpvsOperation; error: Error }[] = [];
    let outcomeUnknown = false;
    if (p.ops.length > 0) {
      const results = await this.options.kernel.apply(p.ops);
      results.forEach((r, i) => {
        if (r.ok) return;
        failed.push({ op: p.ops[i] as IpvsOperation, error: r.error });
        if (r.error instanceof OutcomeUnknown) outcomeUnknown = true;
      });
    }
    return { ops: p.ops, failed, outcomeUnknown, durationMs: this.now() - started, vips, pendingDrains: p.drainingSince.size };
  }
}

export function describeOp(op: IpvsOperation): string {
  const service = 'key' in op.service ? op.service.key : op.service;
  const dest = 'destination' in op ? ` -> ${op.destination.address}:${op.destination.port}${op.op !== 'delete-destination' ? ` w=${op.destination.weight}` : ''}` : '';
  return `${op.op} ${serviceKeyString(service)}${dest}`;
}
