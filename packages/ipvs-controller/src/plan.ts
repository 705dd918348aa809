import { ServiceFlags, type Destination, type DestinationSpec, type IpvsOperation, type ServiceKey } from '@balanced/ipvs';
import { destinationId, drainKey, serviceId } from './keys.js';
import type { ActualService, DesiredDestination, DesiredService } from './model.js';

export interface PlanContext {
  /** True for services whose VIP lies in our pools/CIDRs. Nothing else is ever touched. */
  readonly owns: (key: ServiceKey) => boolean;
  /** Milliseconds since the epoch. */
  readonly now: number;
  /** When each leaving destination started draining (from the previous plan). */
  readonly drainingSince: ReadonlyMap<string, number>;
  /** Drain period for services that are no longer desired at all. */
  readonly defaultDrainSeconds: number;
}

export interface Plan {
  /** Minimal ordered operations; apply them in order in one batch. */
  readonly ops: readonly IpvsOperation[];
  /** Destinations still draining after this plan, for the next one. */
  readonly drainingSince: ReadonlyMap<string, number>;
}

/**
 * Pure: what to change so the kernel matches `desired`. Rules (see DESIGN.md, kernel facts):
 * never flush; touch only owned services; keep every destination list in exactly the given
 * order (the Reconciler gives director order, see order.ts: a scale-up lands at the head). New
 * destinations go to the head of the kernel's list, so the part of the list in front of an
 * insertion point is deleted and re-added — a deleted destination with connections comes
 * back from the kernel's trash with them; a destination that leaves is set to weight 0 and
 * deleted once it has no connections or its drain period is over; a service that leaves is
 * drained the same way and deleted once it has no destinations.
 */
export function plan(desired: readonly DesiredService[], actual: readonly ActualService[], ctx: PlanContext): Plan {
  const ops: IpvsOperation[] = [];
  const draining = new Map<string, number>();
  const actualById = new Map(actual.map((a) => [serviceId(a.service.key), a]));
  const desiredIds = new Set<string>();

  for (const want of desired) {
    const key = want.spec.key;
    if (!ctx.owns(key)) continue;
    const id = serviceId(key);
    desiredIds.add(id);
    const have = actualById.get(id);
    if (!have) {
      ops.push({ op: 'add-service', service: want.spec });
      ops.push(...insertInOrder(key, want.destinations));
      continue;
    }
    if (serviceDiffers(want, have)) ops.push({ op: 'update-service', service: want.spec });
    planDestinations(key, want, have.destinations, ctx, ops, draining);
  }

  for (const have of actual) {
    const key = have.service.key;
    if (!ctx.owns(key) || desiredIds.has(serviceId(key))) continue;
    const drainSeconds = ctx.defaultDrainSeconds;
    let remaining = 0;
    for (const d of have.destinations) {
      if (!drainLeaving(key, d, drainSeconds, ctx, ops, draining)) remaining += 1;
    }
    if (remaining === 0) ops.push({ op: 'delete-service', service: key });
  }
  return { ops, drainingSince: draining };
}

function planDestinations(
  key: ServiceKey,
  want: DesiredService,
  have: readonly Destination[],
  ctx: PlanContext,
  ops: IpvsOperation[],
  draining: Map<string, number>,
): void {
  const wanted = new Map(want.destinations.map((d) => [destinationId(d), d]));
  const present = new Map(have.map((d) => [destinationId(d), d]));

  // Kernel order restricted to wanted destinations. Keep the longest tail of the wanted order
  // that the kernel already holds in that relative order (a subsequence: destinations between
  // them are deleted and re-added in front); everything before it is (re)inserted at the head.
  const current = have.filter((d) => wanted.has(destinationId(d))).map((d) => destinationId(d));
  const canonical = want.destinations.map((d) => destinationId(d));
  let i = canonical.length - 1;
  let j = current.length - 1;
  while (i >= 0) {
    const id = canonical[i] as string;
    if (!present.has(id)) break; // missing: it can only be inserted at the head
    let k = j;
    while (k >= 0 && current[k] !== id) k -= 1;
    if (k < 0) break;
    j = k - 1;
    i -= 1;
  }
  const rebuild = want.destinations.slice(0, i + 1); // must be (re)inserted, head part

  // Delete the present ones of the head part (they come back with their connections) ...
  for (const d of rebuild) {
    if (present.has(destinationId(d))) ops.push({ op: 'delete-destination', service: key, destination: { address: d.address, port: d.port } });
  }
  // ... and insert the head part last-first, so it ends up in canonical order.
  ops.push(...insertInOrder(key, rebuild));

  // Edits in place for the tail that is already in order.
  for (const d of want.destinations.slice(i + 1)) {
    const h = present.get(destinationId(d));
    if (h) ops.push(...editInPlace(key, d, h));
  }

  // Destinations that left: drain, then delete.
  for (const h of have) {
    if (!wanted.has(destinationId(h))) drainLeaving(key, h, want.drainSeconds, ctx, ops, draining);
  }
}

/** Add destinations so that the kernel list holds them in the given order (head first). */
function insertInOrder(key: ServiceKey, destinations: readonly DesiredDestination[]): IpvsOperation[] {
  const ops: IpvsOperation[] = [];
  for (let k = destinations.length - 1; k >= 0; k--) {
    const d = destinations[k] as DesiredDestination;
    if (d.weight === 0 && d.lastWeight > 0) {
      // Added with its table weight, then drained: last_weight stays, as on a director
      // that drained it in place.
      ops.push({ op: 'add-destination', service: key, destination: { ...spec(d), weight: d.lastWeight } });
      ops.push({ op: 'update-destination', service: key, destination: spec(d) });
    } else {
      ops.push({ op: 'add-destination', service: key, destination: spec(d) });
    }
  }
  return ops;
}

function editInPlace(key: ServiceKey, want: DesiredDestination, have: Destination): IpvsOperation[] {
  const sameButWeight =
    have.forwarding === want.forwarding &&
    have.upperThreshold === (want.upperThreshold ?? 0) &&
    have.lowerThreshold === (want.lowerThreshold ?? 0) &&
    sameTunnel(want, have);
  if (sameButWeight && have.weight === want.weight) return [];
  if (want.weight === 0 && have.weight !== 0 && have.weight !== want.lastWeight) {
    // Drain from a different weight: set the table weight first so last_weight matches.
    return [
      { op: 'update-destination', service: key, destination: { ...spec(want), weight: want.lastWeight } },
      { op: 'update-destination', service: key, destination: spec(want) },
    ];
  }
  return [{ op: 'update-destination', service: key, destination: spec(want) }];
}

/** Weight 0 first; delete once idle or past the drain period. Returns true when deleted. */
function drainLeaving(
  key: ServiceKey,
  h: Destination,
  drainSeconds: number,
  ctx: PlanContext,
  ops: IpvsOperation[],
  draining: Map<string, number>,
): boolean {
  const k = drainKey(key, h);
  const since = ctx.drainingSince.get(k) ?? ctx.now;
  const idle = h.activeConnections + h.inactiveConnections === 0;
  const expired = ctx.now - since >= drainSeconds * 1000;
  if (h.weight === 0 && (idle || expired)) {
    ops.push({ op: 'delete-destination', service: key, destination: { address: h.address, port: h.port } });
    return true;
  }
  if (h.weight !== 0) {
    ops.push({ op: 'update-destination', service: key, destination: { ...fromActual(h), weight: 0 } });
  }
  draining.set(k, since);
  return false;
}

function serviceDiffers(want: DesiredService, have: ActualService): boolean {
  const s = have.service;
  const w = want.spec;
  return (
    s.scheduler !== w.scheduler ||
    s.flags !== ((w.flags ?? 0) & ~ServiceFlags.HASHED) >>> 0 ||
    s.timeout !== (w.timeout ?? 0) ||
    (w.netmask !== undefined && s.netmask !== w.netmask) ||
    (s.persistenceEngine ?? '') !== (w.persistenceEngine ?? '')
  );
}

function sameTunnel(want: DestinationSpec, have: Destination): boolean {
  if (want.forwarding !== 'tunnel') return true;
  const t = have.tunnel;
  const type = want.tunnel?.type ?? 'ipip';
  return t !== undefined && t.type === type && t.port === (want.tunnel?.port ?? 0) && t.flags === (want.tunnel?.flags ?? 0);
}

function spec(d: DesiredDestination): DestinationSpec {
  const { lastWeight: _ignored, ...rest } = d;
  return rest;
}

function fromActual(h: Destination): DestinationSpec {
  return {
    address: h.address,
    port: h.port,
    forwarding: h.forwarding,
    weight: h.weight,
    upperThreshold: h.upperThreshold,
    lowerThreshold: h.lowerThreshold,
    ...(h.tunnel ? { tunnel: h.tunnel } : {}),
  };
}
