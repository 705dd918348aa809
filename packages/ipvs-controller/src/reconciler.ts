import { OutcomeUnknown, serviceKeyString, type IpvsOperation, type ServiceKey } from '@balanced/ipvs';
import type { DesiredSnapshot } from './desired-index.js';
import type { IpvsKernel } from './kernel.js';
import type { ActualService, DesiredService } from './model.js';
import { applyToModel, type ModelService } from './kernel-model.js';
import { inDirectorOrder } from './order.js';
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
  /** Whether this pass read the whole kernel table, some services, or planned on the cached view. */
  readonly read: 'full' | 'partial' | 'cached';
  /** Virtual services this pass planned (all of them on a full pass, less the skipped ones). */
  readonly planned: number;
  /** Services with a failed op (by id): their kernel state is unknown until re-read. */
  readonly failedServices: ReadonlyMap<string, ServiceKey>;
  /** Services this pass planned with every op acknowledged (or nothing to do), among `retry`. */
  readonly recovered: readonly string[];
}

export interface ReconcileOptions {
  /** Re-read the whole kernel table and plan every service. */
  readonly fullRead?: boolean;
  /** Re-read the services that are draining (their connection counts change without events). */
  readonly refreshDraining?: boolean;
  /** Services to leave alone this pass (failing, waiting out their own backoff). */
  readonly skip?: ReadonlySet<string>;
  /** Failing services whose backoff is over: re-read them (only them) and plan them again. */
  readonly retry?: ReadonlyMap<string, ServiceKey>;
}

export interface ReconcilerOptions {
  readonly kernel: IpvsKernel;
  readonly owns: (key: ServiceKey) => boolean;
  readonly defaultDrainSeconds: number;
  readonly now?: () => number;
  /** Services planned and applied per batch (default 1000): bounds the memory of a first sync. */
  readonly chunkServices?: number;
  /** Called with the VIPs that must be present (e.g. to sync the dummy link): on full passes and when they change. */
  readonly onVips?: (vips: readonly string[]) => Promise<void>;
  /**
   * Called every pass before anything is planned, with every desired service (by id) and
   * whether the pass reads everything: guards that must be in place before IPVS answers (the
   * source-range firewall). A throw fails the pass.
   */
  readonly beforePlan?: (services: ReadonlyMap<string, DesiredService>, full: boolean) => Promise<void>;
}

const opService = (o: IpvsOperation): ServiceKey => ('key' in o.service ? o.service.key : o.service);

/**
 * One pass: plan against the kernel's table, apply the ops in one pipelined batch. Each
 * service's destinations are held in director order (order.ts), whatever order they come in.
 * The kernel is the source of truth: the whole table is read on the first pass, whenever the
 * caller asks (resync, director-level retries) and after an uncertain outcome; a service whose
 * op failed is left out of the view and re-read alone before it is planned again (the caller
 * may hold it back meanwhile: `skip`, `retry`). In between, the view is the last
 * read advanced by the ops the kernel acknowledged, and a pass plans only the virtual services
 * whose desired state changed plus those still draining — so an event costs work
 * proportional to the change, not to the table. Deletes are decided on fresh connection
 * counts: a plan that would delete re-reads the services concerned first.
 */
export class Reconciler {
  private drainingSince = new Map<string, number>();
  private view: Map<string, ModelService> | undefined;
  /** The VIP list last handed to onVips (a snapshot keeps the same array until it changes). */
  private lastVips: readonly string[] | undefined;
  /** Services left out of the view after a failed op: re-read before they are planned again. */
  private stale = new Map<string, ServiceKey>();
  private readonly now: () => number;

  constructor(private readonly options: ReconcilerOptions) {
    this.now = options.now ?? Date.now;
  }

  /** Forget the cached view; the next pass reads the whole table. */
  invalidate(): void {
    this.view = undefined;
  }

  /** Put a service back into the view as the kernel holds it now (or leave it out if absent). */
  private async refreshStale(view: Map<string, ModelService>, ids: Iterable<string>): Promise<void> {
    const keys: ServiceKey[] = [];
    for (const id of ids) {
      const key = this.stale.get(id);
      if (key === undefined) continue;
      keys.push(key);
      this.stale.delete(id);
      view.delete(id);
    }
    if (keys.length === 0) return;
    for (const s of await this.options.kernel.read(keys)) view.set(serviceKeyString(s.service.key), toModel(s));
  }

  async reconcile(input: readonly DesiredService[] | DesiredSnapshot, options: ReconcileOptions = {}): Promise<ReconcileReport> {
    const started = this.now();
    const desired = toSnapshot(input, this.options.owns);
    const full = options.fullRead === true || this.view === undefined;
    // VIPs first: a new service should find its address in place.
    if (this.options.onVips && (full || desired.vipsChanged || desired.vips !== this.lastVips)) {
      await this.options.onVips(desired.vips);
      this.lastVips = desired.vips;
    }
    await this.options.beforePlan?.(desired.services, full);
    let read: ReconcileReport['read'] = 'cached';
    let view: Map<string, ModelService>;
    if (full || this.view === undefined) {
      view = await this.readAll();
      this.stale.clear();
      read = 'full';
    } else {
      view = this.view;
    }
    this.view = view;

    // What to plan: everything, or the changed services and those still draining (never the
    // skipped ones: they wait out their own backoff; failing services that are due come back).
    const skip = options.skip ?? new Set<string>();
    let scope: Set<string> | undefined;
    if (read !== 'full' && desired.changed !== 'all') {
      scope = new Set(desired.changed);
      for (const k of this.drainingSince.keys()) scope.add(drainingService(k));
      for (const id of options.retry?.keys() ?? []) scope.add(id);
      for (const id of skip) scope.delete(id);
      if (options.refreshDraining) {
        const keys = [...new Set([...this.drainingSince.keys()].map(drainingService))];
        if (keys.length > 0) {
          await this.refresh(view, keys);
          read = 'partial';
        }
      }
    }
    // Plan and apply in chunks of services: a first sync of a large cluster never holds every
    // op and encoded request at once. (A chunk's ops only concern its own services.)
    const prior = this.drainingSince;
    const next = new Map<string, number>();
    const ids = scope !== undefined ? [...scope] : allIds(desired.services, view, this.stale).filter((id) => !skip.has(id));
    const planning = scope ?? new Set(ids);
    // Services whose last ops failed are not in the view: read them (only them) first.
    if (this.stale.size > 0) {
      const stale = [...this.stale.keys()].filter((id) => planning.has(id));
      if (stale.length > 0) {
        await this.refreshStale(view, stale);
        if (read === 'cached') read = 'partial';
      }
    }
    for (const [k, v] of prior) if (!planning.has(drainingService(k))) next.set(k, v);
    const chunkSize = Math.max(1, this.options.chunkServices ?? 1000);
    const ops: IpvsOperation[] = [];
    const failed: { op: IpvsOperation; error: Error }[] = [];
    const failedServices = new Map<string, ServiceKey>();
    let outcomeUnknown = false;
    let viewValid = true;
    for (let at = 0; at < ids.length; at += chunkSize) {
      const chunk = ids.slice(at, at + chunkSize);
      const ctx = { owns: this.options.owns, now: this.now(), drainingSince: prior, defaultDrainSeconds: this.options.defaultDrainSeconds };
      const wanted = pick(desired.services, chunk).map(inDirectorOrder);
      let p = plan(wanted, pick(view, chunk), ctx);
      if (read !== 'full') {
        const deleting = [...new Set(p.ops.filter((o) => o.op === 'delete-destination' || o.op === 'delete-service').map((o) => serviceKeyString(opService(o))))];
        if (deleting.length > 0) {
          await this.refresh(view, deleting);
          read = 'partial';
          p = plan(wanted, pick(view, chunk), { ...ctx, now: this.now() });
        }
      }
      for (const [k, v] of p.drainingSince) next.set(k, v);
      if (p.ops.length === 0) continue;
      const results = await this.options.kernel.apply(p.ops);
      const chunkFailed = new Set<string>();
      results.forEach((r, i) => {
        if (r.ok) return;
        const op = p.ops[i] as IpvsOperation;
        const id = serviceKeyString(opService(op));
        chunkFailed.add(id);
        failedServices.set(id, opService(op));
        failed.push({ op, error: r.error });
        if (r.error instanceof OutcomeUnknown) outcomeUnknown = true;
      });
      // A failed service's later ops may have applied or not: leave it out of the view (it is
      // re-read, alone, before it is planned again); the others advance by their acked ops.
      for (const id of chunkFailed) {
        view.delete(id);
        this.stale.set(id, failedServices.get(id) as ServiceKey);
      }
      if (!advance(view, chunkFailed.size > 0 ? p.ops.filter((o) => !chunkFailed.has(serviceKeyString(opService(o)))) : p.ops)) viewValid = false;
      ops.push(...p.ops);
    }
    this.drainingSince = next;
    if (!viewValid || outcomeUnknown) this.view = undefined;
    const recovered = [...(options.retry?.keys() ?? [])].filter((id) => planning.has(id) && !failedServices.has(id));
    return {
      ops,
      failed,
      outcomeUnknown,
      durationMs: this.now() - started,
      vips: desired.vips,
      pendingDrains: next.size,
      read,
      planned: ids.length,
      failedServices,
      recovered,
    };
  }

  private async readAll(): Promise<Map<string, ModelService>> {
    return new Map((await this.options.kernel.dump()).map((s) => [serviceKeyString(s.service.key), toModel(s)]));
  }

  /** Replace these services in the view with what the kernel holds now. */
  private async refresh(view: Map<string, ModelService>, ids: readonly string[]): Promise<void> {
    const keys = ids.map((id) => view.get(id)?.service.key).filter((k): k is ServiceKey => k !== undefined);
    const fresh = await this.options.kernel.read(keys);
    for (const id of ids) view.delete(id);
    for (const s of fresh) view.set(serviceKeyString(s.service.key), toModel(s));
  }
}

/** The service part of a drain key ("<service> -> <destination>"). */
function drainingService(drainKey: string): string {
  const i = drainKey.indexOf(' -> ');
  return i === -1 ? drainKey : drainKey.slice(0, i);
}

/** Every service id, desired or in the kernel, sorted (full passes go through them in this order). */
function allIds(desired: ReadonlyMap<string, unknown>, view: ReadonlyMap<string, unknown>, stale: ReadonlyMap<string, unknown>): string[] {
  return [...new Set([...desired.keys(), ...view.keys(), ...stale.keys()])].sort();
}

function pick<T>(all: ReadonlyMap<string, T>, ids: readonly string[]): T[] {
  const out: T[] = [];
  for (const id of ids) {
    const v = all.get(id);
    if (v !== undefined) out.push(v);
  }
  return out;
}

/** Advance the view by acknowledged ops, one service at a time; false when they do not fit (drift). */
function advance(view: Map<string, ModelService>, ops: readonly IpvsOperation[]): boolean {
  const byService = new Map<string, IpvsOperation[]>();
  for (const o of ops) {
    const id = serviceKeyString(opService(o));
    const list = byService.get(id);
    if (list === undefined) byService.set(id, [o]);
    else list.push(o);
  }
  try {
    for (const [id, list] of byService) {
      const had = view.get(id);
      const next = applyToModel(had ? [had] : [], list);
      view.delete(id); // a re-added service goes last, as in the kernel's dump
      if (next[0] !== undefined) view.set(id, next[0]);
    }
    return true;
  } catch {
    return false;
  }
}

function toModel(s: ActualService): ModelService {
  // The dump hides last_weight; the view only needs it to stay a valid model.
  return { service: s.service, destinations: s.destinations.map((d) => ({ ...d, lastWeight: d.weight })) };
}

/** A plain list means: this is everything, all of it may have changed. */
function toSnapshot(input: readonly DesiredService[] | DesiredSnapshot, owns: (key: ServiceKey) => boolean): DesiredSnapshot {
  if (!Array.isArray(input)) return input as DesiredSnapshot;
  const list = input as readonly DesiredService[];
  const vips = [...new Set(list.filter((d) => owns(d.spec.key)).map((d) => ('fwmark' in d.spec.key ? '' : d.spec.key.address)).filter(Boolean))].sort();
  return { services: new Map(list.map((d) => [serviceKeyString(d.spec.key), d])), changed: 'all', vips, vipsChanged: true };
}

export function describeOp(op: IpvsOperation): string {
  const service = 'key' in op.service ? op.service.key : op.service;
  const dest = 'destination' in op ? ` -> ${op.destination.address}:${op.destination.port}${op.op !== 'delete-destination' ? ` w=${op.destination.weight}` : ''}` : '';
  return `${op.op} ${serviceKeyString(service)}${dest}`;
}
