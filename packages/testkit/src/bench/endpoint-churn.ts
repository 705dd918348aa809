// The endpoint churn the controller benches replay: N Services, each with one EndpointSlice of
// `dests` endpoints spread over ENDPOINT_SLOTS address slots, and a seeded sequence of
// single-endpoint changes (flip ready, remove one, add one on a free slot, so it lands anywhere
// in the address order). Deterministic: the same arguments give the same changes. Each bench
// turns slots into its own addresses and objects.

/** Address slots per Service: endpoints are spread evenly over them; additions take a free one. */
export const ENDPOINT_SLOTS = 64;

/** A seeded pseudo-random source in [0, 1) (mulberry32). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `dests` ready endpoints spread evenly over the slots: slot → ready. */
export function initialEndpoints(dests: number): Map<number, boolean> {
  return new Map(Array.from({ length: dests }, (_, d) => [Math.floor(((d + 0.5) * ENDPOINT_SLOTS) / dests), true]));
}

export type EndpointChangeKind = 'flip-ready' | 'remove' | 'add';

export interface EndpointChange {
  readonly service: number;
  readonly kind: EndpointChangeKind;
  /** The slot changed. */
  readonly slot: number;
  /** The Service's endpoints after the change: slot → ready. */
  readonly endpoints: ReadonlyMap<number, boolean>;
}

export interface EndpointChurnOptions {
  readonly seed?: number;
  /** A removal takes a ready endpoint (so every change changes the ready set). Default false. */
  readonly removeReady?: boolean;
}

/** `count` changes, each to ONE Service's endpoints, over Services 0 … services-1 that start with initialEndpoints(dests). */
export function endpointChurn(services: number, dests: number, count: number, options: EndpointChurnOptions = {}): EndpointChange[] {
  const rand = seededRandom(options.seed ?? 42);
  const state = new Map<number, Map<number, boolean>>();
  const out: EndpointChange[] = [];
  for (let c = 0; c < count; c++) {
    const service = Math.floor(rand() * services);
    let e = state.get(service);
    if (e === undefined) state.set(service, (e = initialEndpoints(dests)));
    const removable = options.removeReady === true ? [...e.keys()].filter((s) => e.get(s) === true) : [...e.keys()];
    let kind: EndpointChangeKind = (['flip-ready', 'remove', 'add'] as const)[Math.floor(rand() * 3)]!;
    if (kind === 'remove' && (e.size <= 1 || removable.length === 0)) kind = 'add';
    if (kind === 'add' && e.size >= ENDPOINT_SLOTS) kind = 'flip-ready';
    const slots = [...e.keys()];
    let slot: number;
    if (kind === 'flip-ready') {
      slot = slots[Math.floor(rand() * slots.length)]!;
      e.set(slot, !e.get(slot));
    } else if (kind === 'remove') {
      slot = removable[Math.floor(rand() * removable.length)]!;
      e.delete(slot);
    } else {
      do slot = Math.floor(rand() * ENDPOINT_SLOTS);
      while (e.has(slot));
      e.set(slot, true);
    }
    out.push({ service, kind, slot, endpoints: new Map(e) });
  }
  return out;
}
