import { OutcomeUnknown, serviceKeyString, type IpvsOperation, type ServiceKey } from '@balanced/ipvs';
import type { DesiredSnapshot } from './desired-index.js';
import type { IpvsKernel } from './kernel.js';
import type { ActualService, DesiredService } from './model.js';
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
  /** Whether this pass read the whole kernel table, some services, or planned on the cached view. */
  readonly read: 'full' | 'partial' | 'cached';
  /** Virtual services this pass planned (all of them on a full pass). */
  readonly planned: number;
}

export interface ReconcileOptions {
  /** Re-read the whole kernel table and plan every service. */
  readonly fullRead?: boolean;
  /** Re-read the services that are draining (their connection counts change without events). */
  readonly refreshDraining?: boolean;
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
}

const opService = (o: IpvsOperation): ServiceKey => ('key' in o.service ? o.service.key : o.service);

/**
 * One pass: plan against the kernel's table, apply the ops in one pipelined batch. The kernel
 * is the source of truth: the whole table is read on the first pass, whenever the caller asks
 * (resync, retries) and after any failed or uncertain op. In between, the view is the last
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
  private readonly now: () => number;

  constructor(private readonly options: ReconcilerOptions) {
    this.now = options.now ?? Date.now;
  }

  /** Forget the cached view; the next pass reads the whole table. */
  invalidate(): void {
    this.view = undefined;
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
    let read: ReconcileReport['read'] = 'cached';
    let view: Map<string, ModelService>;
    if (full || this.view === undefined) {
      view = await this.readAll();
      read = 'full';
    } else {
      view = this.view;
    }
    this.view = view;

    // What to plan: everything, or the changed services and those still draining.
    let scope: Set<string> | undefined;
    if (read !== 'full' && desired.changed !== 'all') {
      scope = new Set(desired.changed);
      for (const k of this.drainingSince.keys()) scope.add(drainingService(k));
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
    if (scope !== undefined) for (const [k, v] of prior) if (!scope.has(drainingService(k))) next.set(k, v);
    const ids = scope !== undefined ? [...scope] : allIds(desired.services, view);
    const chunkSize = Math.max(1, this.options.chunkServices ?? 1000);
    const ops: IpvsOperation[] = [];
    const failed: { op: IpvsOperation; error: Error }[] = [];
    let outcomeUnknown = false;
    let viewValid = true;
    for (let at = 0; at < ids.length; at += chunkSize) {
      const chunk = ids.slice(at, at + chunkSize);
      const ctx = { owns: this.options.owns, now: this.now(), drainingSince: prior, defaultDrainSeconds: this.options.defaultDrainSeconds };
      let p = plan(pick(desired.services, chunk), pick(view, chunk), ctx);
      if (read !== 'full') {
        const deleting = [...new Set(p.ops.filter((o) => o.op === 'delete-destination' || o.op === 'delete-service').map((o) => serviceKeyString(opService(o))))];
        if (deleting.length > 0) {
          await this.refresh(view, deleting);
          read = 'partial';
          p = plan(pick(desired.services, chunk), pick(view, chunk), { ...ctx, now: this.now() });
        }
      }
      for (const [k, v] of p.drainingSince) next.set(k, v);
      if (p.ops.length === 0) continue;
      const results = await this.options.kernel.apply(p.ops);
      let chunkFailed = false;
      results.forEach((r, i) => {
        if (r.ok) return;
        chunkFailed = true;
        failed.push({ op: p.ops[i] as IpvsOperation, error: r.error });
        if (r.error instanceof OutcomeUnknown) outcomeUnknown = true;
      });
      if (chunkFailed || !advance(view, p.ops)) viewValid = false;
      ops.push(...p.ops);
    }
    this.drainingSince = next;
    if (!viewValid) this.view = undefined;
    return {
      ops,
      failed,
      outcomeUnknown,
      durationMs: this.now() - started,
      vips: desired.vips,
      pendingDrains: next.size,
      read,
      planned: ids.length,
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
function allIds(desired: ReadonlyMap<string, unknown>, view: ReadonlyMap<string, unknown>): string[] {
  return [...new Set([...desired.keys(), ...view.keys()])].sort();
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
