import { OutcomeUnknown, serviceKeyString, type IpvsOperation, type ServiceKey } from '@balanced/ipvs';
import type { IpvsKernel } from './kernel.js';
import type { DesiredService } from './model.js';
import { applyToModel, type ModelService } from './kernel-model.js';
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
  /** Whether this pass read the whole kernel table or planned against the cached view. */
  readonly read: 'full' | 'cached';
}

export interface ReconcileOptions {
  /** Re-read the whole kernel table instead of trusting the cached view. */
  readonly fullRead?: boolean;
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
 * One pass: plan against the kernel's table, apply the ops in one pipelined batch. The
 * kernel is the source of truth: a full read happens on the first pass, whenever the caller
 * asks (resync, retries, drain polls), after any failed or uncertain op, and whenever a plan
 * would delete something (deletes are decided on fresh connection counts). In between, the
 * view is the last read advanced by the ops the kernel acknowledged — so an event costs work
 * proportional to the change, not to the table.
 */
export class Reconciler {
  private drainingSince: ReadonlyMap<string, number> = new Map();
  private view: ModelService[] | undefined;
  private readonly now: () => number;

  constructor(private readonly options: ReconcilerOptions) {
    this.now = options.now ?? Date.now;
  }

  /** Forget the cached view; the next pass reads the whole table. */
  invalidate(): void {
    this.view = undefined;
  }

  async reconcile(desired: readonly DesiredService[], options: ReconcileOptions = {}): Promise<ReconcileReport> {
    const started = this.now();
    const vips = [...new Set(desired.filter((d) => this.options.owns(d.spec.key)).map((d) => ('fwmark' in d.spec.key ? '' : d.spec.key.address)).filter(Boolean))].sort();
    // VIPs first: a new service should find its address in place.
    if (this.options.onVips) await this.options.onVips(vips);
    let read: 'full' | 'cached' = 'cached';
    if (options.fullRead || !this.view) {
      this.view = await this.readKernel();
      read = 'full';
    }
    const context = () => ({ owns: this.options.owns, now: this.now(), drainingSince: this.drainingSince, defaultDrainSeconds: this.options.defaultDrainSeconds });
    let p = plan(desired, this.view, context());
    if (read === 'cached' && p.ops.some((o) => o.op === 'delete-destination' || o.op === 'delete-service')) {
      this.view = await this.readKernel();
      read = 'full';
      p = plan(desired, this.view, context());
    }
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
      this.view = failed.length === 0 ? this.advance(this.view, p.ops) : undefined;
    }
    return { ops: p.ops, failed, outcomeUnknown, durationMs: this.now() - started, vips, pendingDrains: p.drainingSince.size, read };
  }

  /** The view after acknowledged ops; if they do not fit it (drift), read again next time. */
  private advance(view: ModelService[], ops: readonly IpvsOperation[]): ModelService[] | undefined {
    try {
      return applyToModel(view, ops);
    } catch {
      return undefined;
    }
  }

  private async readKernel(): Promise<ModelService[]> {
    const table = await this.options.kernel.dump();
    // The dump hides last_weight; the view only needs it to stay a valid model.
    return table.map((s) => ({ service: s.service, destinations: s.destinations.map((d) => ({ ...d, lastWeight: d.weight })) }));
  }
}

export function describeOp(op: IpvsOperation): string {
  const service = 'key' in op.service ? op.service.key : op.service;
  const dest = 'destination' in op ? ` -> ${op.destination.address}:${op.destination.port}${op.op !== 'delete-destination' ? ` w=${op.destination.weight}` : ''}` : '';
  return `${op.op} ${serviceKeyString(service)}${dest}`;
}
