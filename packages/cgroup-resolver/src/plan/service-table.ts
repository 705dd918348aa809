// One service's Maglev table (bpf/resolver.h "service tables"): the backend list in the Maglev
// instance's order and, per slot, a u16 index into it. Built with @balanced/maglev, the
// project's one Maglev implementation.
import { ALLOWED_TABLE_SIZES, createMaglev, type Backend, type Maglev } from '@balanced/maglev';
import { newSlotArray, type DesiredBackend, type SlotArray } from '../model.js';
import { PlanInputError } from './plan-errors.js';
import { SERVICE_MAX_BACKENDS } from '../maps/layout.js';

/** Smallest table size: below it the shares drift from the weights. */
export const MIN_TABLE_SIZE = 251;
/** Maglev wants M ≥ 100·N for < 1% disruption when a backend leaves. */
const SLOTS_PER_BACKEND = 100;
const MAX_WEIGHT = 0x7fffffff;

/**
 * The table size for `live` backends with weight > 0 out of `total`: the smallest allowed prime
 * ≥ 100 × live, at least 251, capped at the largest allowed, and always > total (Maglev needs
 * more slots than backends; the cap, 131071, exceeds SERVICE_MAX_BACKENDS).
 */
export function tableSizeFor(live: number, total = live): number {
  const want = Math.max(MIN_TABLE_SIZE, SLOTS_PER_BACKEND * live, total + 1);
  for (const m of ALLOWED_TABLE_SIZES) if (m >= want) return m;
  return ALLOWED_TABLE_SIZES[ALLOWED_TABLE_SIZES.length - 1] as number;
}

/**
 * A backend's id in the Maglev hash: `address:port` (IPv4) or `[address]:port` (IPv6), the
 * model's canonical address text. FROZEN: every node must build the same table for the same
 * backends (a flow keeps its backend whichever node it starts on), so changing this spelling
 * re-shuffles every Service's flows during a rolling upgrade. Do not change it.
 */
export function backendMaglevId(address: string, port: number): string {
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}

export interface BuiltTable {
  /** The backends in the order the slots index (the Maglev instance's sorted order). */
  readonly backends: readonly DesiredBackend[];
  /** Index into `backends` per slot; empty when no backend has weight > 0. */
  readonly slots: SlotArray;
}

/** Builds one service's table; {@link createTableBuilder} makes one. */
export type TableBuilder = (backends: readonly DesiredBackend[]) => BuiltTable;

/** Tables a builder remembers (one per distinct backend set, the oldest forgotten first). */
const TABLE_CACHE_SIZE = 65536;

/**
 * A table builder holding one Maglev instance per table size and the slots of the tables it
 * built, by backend set (ids and weights): keep one for the agent's life, and a pass over
 * thousands of unchanged Services builds no table at all — and hands out the very same `slots`
 * array, which the planner compares by reference first. Only the slots are kept: the backends'
 * order is the Maglev order, their ids sorted, computed again from the set each time.
 * @throws PlanInputError on a backend set no table can hold (never built by buildResolverState).
 */
export function createTableBuilder(): TableBuilder {
  const instances = new Map<number, Maglev>();
  const cache = new Map<string, SlotArray>();
  const maglev = (size: number): Maglev => {
    let m = instances.get(size);
    if (m === undefined) {
      m = createMaglev({ tableSize: size });
      instances.set(size, m);
    }
    return m;
  };
  return (backends) => {
    if (backends.length > SERVICE_MAX_BACKENDS) {
      throw new PlanInputError(`${backends.length} backends: a service table holds at most ${SERVICE_MAX_BACKENDS}`);
    }
    // Each backend with its Maglev id, in the Maglev order (ids in code-unit order), which is
    // also the cache key's order.
    const n = backends.length;
    const ordered: Ordered[] = new Array(n);
    let live = 0;
    for (let i = 0; i < n; i++) {
      const b = backends[i] as DesiredBackend;
      if (!validWeight(b.weight)) throw firstInputError(backends);
      ordered[i] = { id: backendMaglevId(b.address, b.port), weight: b.weight, backend: b };
      if (b.weight > 0) live++;
    }
    sortById(ordered);
    // The key: the ids, then the weights (no id holds a space, so no two sets share a key).
    const parts: (string | number)[] = new Array(2 * n);
    for (let i = 0; i < n; i++) {
      const e = ordered[i] as Ordered;
      if (i > 0 && e.id === (ordered[i - 1] as Ordered).id) throw firstInputError(backends);
      parts[i] = e.id;
      parts[n + i] = e.weight;
    }
    // join: one flat string (the cache keeps it; a += chain would keep every piece).
    const key = parts.join(' ');
    let slots = cache.get(key);
    if (slots === undefined) {
      if (live === 0) slots = new Uint8Array(0);
      else {
        const size = tableSizeFor(live, n);
        slots = newSlotArray(n, size);
        maglev(size).fillSlots(ordered, slots);
      }
      if (cache.size >= TABLE_CACHE_SIZE) cache.delete(cache.keys().next().value as string);
    } else {
      cache.delete(key); // refreshed: forgotten last
    }
    cache.set(key, slots);
    const inOrder: DesiredBackend[] = new Array(n);
    for (let i = 0; i < n; i++) inOrder[i] = (ordered[i] as Ordered).backend;
    return { backends: inOrder, slots };
  };
}

/** A backend as the Maglev instance takes it, with the desired backend it stands for. */
interface Ordered extends Backend {
  readonly backend: DesiredBackend;
}


/** Ids in code-unit order; insertion sort for the usual few (Array.prototype.sort allocates its work space). */
function sortById(list: { readonly id: string }[]): void {
  if (list.length > 32) {
    list.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    return;
  }
  for (let i = 1; i < list.length; i++) {
    const item = list[i] as { readonly id: string };
    let j = i - 1;
    while (j >= 0 && (list[j] as { readonly id: string }).id > item.id) {
      list[j + 1] = list[j] as { readonly id: string };
      j--;
    }
    list[j + 1] = item;
  }
}

function validWeight(weight: number): boolean {
  return Number.isInteger(weight) && weight >= 0 && weight <= MAX_WEIGHT;
}

/** The error for the first backend (in the given order) with a bad weight or an id seen before it. */
function firstInputError(backends: readonly DesiredBackend[]): PlanInputError {
  const seen = new Set<string>();
  for (const b of backends) {
    const id = backendMaglevId(b.address, b.port);
    if (!validWeight(b.weight)) return new PlanInputError(`backend ${id} has weight ${String(b.weight)}: an integer 0..${MAX_WEIGHT} is needed`);
    if (seen.has(id)) return new PlanInputError(`backend ${id} is listed twice in one service`);
    seen.add(id);
  }
  return new PlanInputError('no input error'); // not reached: called on an error
}
