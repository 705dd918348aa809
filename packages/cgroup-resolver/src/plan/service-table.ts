// One service's Maglev table (bpf/resolver.h "service tables"): the backend list in the Maglev
// instance's order and, per slot, a u16 index into it. Built with @balanced/maglev, the
// project's one Maglev implementation.
import { ALLOWED_TABLE_SIZES, createMaglev, type Maglev } from '@balanced/maglev';
import type { DesiredBackend, SlotArray } from '../model.js';
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
  const largest = ALLOWED_TABLE_SIZES[ALLOWED_TABLE_SIZES.length - 1] as number;
  return ALLOWED_TABLE_SIZES.find((m) => m >= want) ?? largest;
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
    const byId = new Map<string, DesiredBackend>();
    let live = 0;
    for (const b of backends) {
      if (!Number.isInteger(b.weight) || b.weight < 0 || b.weight > MAX_WEIGHT) {
        throw new PlanInputError(`backend ${backendMaglevId(b.address, b.port)} has weight ${String(b.weight)}: an integer 0..${MAX_WEIGHT} is needed`);
      }
      const id = backendMaglevId(b.address, b.port);
      if (byId.has(id)) throw new PlanInputError(`backend ${id} is listed twice in one service`);
      byId.set(id, b);
      if (b.weight > 0) live++;
    }
    // The Maglev order (ids in code-unit order), which is also the cache key's order.
    const order = [...byId.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    const key = order.map((id) => `${id}*${(byId.get(id) as DesiredBackend).weight}`).join(' ');
    let slots = cache.get(key);
    if (slots === undefined) {
      if (live === 0) slots = new Uint8Array(0);
      else {
        const table = maglev(tableSizeFor(live, byId.size)).build(order.map((id) => ({ id, weight: (byId.get(id) as DesiredBackend).weight })));
        slots = compactSlots(table.slots, byId.size);
      }
      if (cache.size >= TABLE_CACHE_SIZE) cache.delete(cache.keys().next().value as string);
    } else {
      cache.delete(key); // refreshed: forgotten last
    }
    cache.set(key, slots);
    return { backends: order.map((id) => byId.get(id) as DesiredBackend), slots };
  };
}

/** Slots as bytes when every index is below 256 (`count` backends ≤ 256), else as u16. */
export function compactSlots(slots: ArrayLike<number>, count: number): SlotArray {
  return count <= 256 ? Uint8Array.from(slots) : Uint16Array.from(slots);
}
