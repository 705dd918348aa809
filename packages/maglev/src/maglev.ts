import {
  DuplicateBackendError,
  InvalidBackendError,
  InvalidHashError,
  TableSizeNotAllowedError,
  TableTooSmallError,
} from './errors.js';
import { createSipHash24 } from './siphash.js';

/** Prime table sizes a Maglev instance accepts (the same list the kernel's mh and Cilium use). */
export const ALLOWED_TABLE_SIZES: readonly number[] = Object.freeze([
  251, 509, 1021, 2039, 4093, 8191, 16381, 32749, 65521, 131071,
]);

export const DEFAULT_TABLE_SIZE = 16381;

/** Below `SPARSE_FACTOR · N` slots the shares drift from the weights; `build` warns. */
export const SPARSE_FACTOR = 100;

const MAX_WEIGHT = 0x7fffffff;

export interface Backend {
  /** Stable, unique key; the table order (and so the table) depends only on these ids. */
  readonly id: string;
  /** Non-negative integer. 0 = keep the backend known but give it no slots. */
  readonly weight: number;
}

/**
 * A 128-bit hash of a backend id as four unsigned 32-bit words, least significant first:
 * words 0–1 are the 64-bit value that picks the backend's start offset, words 2–3 the one
 * that picks its skip.
 */
export type Hash128 = (id: string) => ArrayLike<number>;

export interface MaglevOptions {
  /** One of {@link ALLOWED_TABLE_SIZES}; default {@link DEFAULT_TABLE_SIZE}. */
  readonly tableSize?: number;
  /** Backend hash; default {@link createSipHash128}(). */
  readonly hash?: Hash128;
}

export interface MaglevWarning {
  readonly code: 'MAGLEV_TABLE_SPARSE';
  readonly message: string;
  readonly tableSize: number;
  readonly backends: number;
}

/** Anything with one owner per slot and a key per owner: what quality/disruption read. */
export interface SlotTable {
  /** Owner index per slot; -1 = no owner. */
  readonly slots: Int32Array;
  /** Key (backend id) of each owner index. */
  readonly keys: readonly string[];
}

export interface MaglevTable extends SlotTable {
  /** M. */
  readonly size: number;
  /** Backend index (into {@link backends}) of each slot; -1 everywhere when no weight is > 0. Read-only by contract. */
  readonly slots: Int32Array;
  /** The backends sorted by id; indices in `slots` and `lookup` refer to this order. */
  readonly backends: readonly Backend[];
  readonly keys: readonly string[];
  readonly warnings: readonly MaglevWarning[];
  /** Backend index for a 32-bit flow hash (`hash32 mod M`), -1 when the table is empty. */
  lookup(hash32: number): number;
  /** The backend at an index from {@link lookup} or {@link slots}. */
  backendAt(index: number): Backend;
}

export interface Maglev {
  readonly tableSize: number;
  /** Builds the table for a backend set. Pure: same set (any order) → same table. */
  build(backends: readonly Backend[]): MaglevTable;
}

/*
 * Keys of the default backend hash. They MUST NOT be changed: every table ever built (and
 * every flow's backend) follows from them, and two builds that disagree split flows.
 */
const OFFSET_KEY = [0x6d61676c65762e6fn, 0x66667365742e7631n] as const; // "maglev.offset.v1"
const SKIP_KEY = [0x6d61676c65762e73n, 0x6b69702e2e2e7631n] as const; // "maglev.skip...v1"

/**
 * The default {@link Hash128}: two SipHash-2-4 lanes over the UTF-8 id under two frozen
 * keys (offset lane, then skip lane). Each call returns a fresh 4-word array.
 */
export function createSipHash128(): Hash128 {
  const offsetLane = createSipHash24(OFFSET_KEY);
  const skipLane = createSipHash24(SKIP_KEY);
  const encoder = new TextEncoder();
  return (id: string) => {
    const bytes = encoder.encode(id);
    const out = new Uint32Array(4);
    offsetLane(bytes, out, 0);
    skipLane(bytes, out, 2);
    return out;
  };
}

function isU32(x: unknown): x is number {
  return typeof x === 'number' && Number.isInteger(x) && x >= 0 && x <= 0xffffffff;
}

/** (hi·2³² + lo) mod m without BigInt; exact because (hi mod m)·2³² + lo < 2⁵³ for m < 2²⁰. */
function mod64(hi: number, lo: number, m: number): number {
  return ((hi % m) * 4294967296 + lo) % m;
}

function compareIds(a: Backend, b: Backend): number {
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

function validateBackends(backends: readonly Backend[]): void {
  if (!Array.isArray(backends)) throw new InvalidBackendError(-1, 'backends must be an array');
  const seen = new Set<string>();
  backends.forEach((b, i) => {
    if (b === null || typeof b !== 'object') throw new InvalidBackendError(i, 'not an object');
    if (typeof b.id !== 'string' || b.id.length === 0) throw new InvalidBackendError(i, 'id must be a non-empty string');
    if (!Number.isInteger(b.weight) || b.weight < 0 || b.weight > MAX_WEIGHT) {
      throw new InvalidBackendError(i, `weight must be an integer in 0..${MAX_WEIGHT}, got ${String(b.weight)}`);
    }
    if (seen.has(b.id)) throw new DuplicateBackendError(b.id);
    seen.add(b.id);
  });
}

/**
 * Creates a validated Maglev instance (no module state; each instance owns its hash).
 *
 * Population (Maglev paper §3.4, weights as turn frequency): backends are visited in id
 * order, round after round. Each round a backend gains `weight` credit; while it holds at
 * least `maxWeight` credit it spends that much to claim its next free preferred slot. The
 * heaviest backend claims once per round, a backend of half its weight every other round,
 * and so on, until all M slots are owned. Preferences are the classic permutation
 * `(offset + j·skip) mod M` with `offset = h₁ mod M`, `skip = h₂ mod (M−1) + 1`.
 *
 * @throws TableSizeNotAllowedError when `tableSize` is not an allowed prime.
 */
export function createMaglev(options: MaglevOptions = {}): Maglev {
  const m = options.tableSize ?? DEFAULT_TABLE_SIZE;
  if (!ALLOWED_TABLE_SIZES.includes(m)) throw new TableSizeNotAllowedError(m, ALLOWED_TABLE_SIZES);
  const hash = options.hash ?? createSipHash128();

  function build(input: readonly Backend[]): MaglevTable {
    validateBackends(input);
    const n = input.length;
    if (m <= n) throw new TableTooSmallError(m, n);
    const backends = Object.freeze(input.map((b) => Object.freeze({ id: b.id, weight: b.weight })).sort(compareIds));
    const keys = Object.freeze(backends.map((b) => b.id));
    const warnings: MaglevWarning[] = [];
    if (m < SPARSE_FACTOR * n) {
      warnings.push({
        code: 'MAGLEV_TABLE_SPARSE',
        message: `table size ${m} is below ${SPARSE_FACTOR}× the ${n} backends; shares will drift from weights and changes will move more flows than ideal`,
        tableSize: m,
        backends: n,
      });
    }

    // Permutation state, one entry per backend that gets turns.
    const live = new Int32Array(n);
    const next = new Int32Array(n);
    const skip = new Int32Array(n);
    const weight = new Float64Array(n);
    const credit = new Float64Array(n);
    let liveCount = 0;
    let maxWeight = 0;
    for (let i = 0; i < n; i++) {
      const b = backends[i]!;
      if (b.weight === 0) continue;
      const h = hash(b.id);
      if (h.length < 4 || !isU32(h[0]) || !isU32(h[1]) || !isU32(h[2]) || !isU32(h[3])) throw new InvalidHashError(b.id);
      next[liveCount] = mod64(h[1], h[0], m);
      skip[liveCount] = mod64(h[3], h[2], m - 1) + 1;
      weight[liveCount] = b.weight;
      live[liveCount] = i;
      if (b.weight > maxWeight) maxWeight = b.weight;
      liveCount++;
    }

    const slots = new Int32Array(m).fill(-1);
    let filled = liveCount === 0 ? m : 0;
    while (filled < m) {
      for (let k = 0; k < liveCount; k++) {
        const c0 = credit[k]! + weight[k]!;
        if (c0 < maxWeight) {
          credit[k] = c0;
          continue;
        }
        credit[k] = c0 - maxWeight;
        let c = next[k]!;
        const s = skip[k]!;
        while (slots[c]! >= 0) {
          c += s;
          if (c >= m) c -= m;
        }
        slots[c] = live[k]!;
        next[k] = c;
        if (++filled === m) break;
      }
    }

    return Object.freeze({
      size: m,
      slots,
      backends,
      keys,
      warnings: Object.freeze(warnings),
      lookup(hash32: number): number {
        return slots[(hash32 >>> 0) % m]!;
      },
      backendAt(index: number): Backend {
        const b = backends[index];
        if (b === undefined) throw new RangeError(`no backend at index ${index}`);
        return b;
      },
    });
  }

  return Object.freeze({ tableSize: m, build });
}
