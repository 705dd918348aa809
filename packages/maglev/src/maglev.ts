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
  /**
   * The slots `build(backends)` gives, written into `out` (length M) with none of build's
   * allocations: for callers that build thousands of tables (the resolver's planner).
   * `backends` must already be in build's order (ids ascending in code-unit order, so no
   * repeats): slot values index it. With no weight > 0 every slot is -1 (as `out` stores it).
   * @throws InvalidBackendError when the ids are not ascending, a weight or `out` is invalid.
   */
  fillSlots(backends: readonly Backend[], out: Int32Array | Uint16Array | Uint8Array): void;
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

/** A {@link Hash128} writing into `out` (four words) instead of returning an array. */
type HashInto = (id: string, out: Uint32Array) => void;

/** Longest id the default hash encodes in its own buffer (longer ones: TextEncoder). */
const SHORT_ID = 64;

/**
 * {@link createSipHash128} with no allocation per call: an ASCII id (any backend's
 * `address:port`) is encoded into a buffer it keeps, through a view per length.
 */
function createSipHash128Into(): HashInto {
  const offsetLane = createSipHash24(OFFSET_KEY);
  const skipLane = createSipHash24(SKIP_KEY);
  const encoder = new TextEncoder();
  const buffer = new Uint8Array(SHORT_ID);
  const views: Uint8Array[] = [];
  for (let len = 0; len <= SHORT_ID; len++) views.push(buffer.subarray(0, len));
  return (id, out) => {
    let bytes: Uint8Array | undefined = id.length <= SHORT_ID ? (views[id.length] as Uint8Array) : undefined;
    for (let i = 0; bytes !== undefined && i < id.length; i++) {
      const c = id.charCodeAt(i);
      if (c < 0x80) buffer[i] = c;
      else bytes = undefined;
    }
    bytes ??= encoder.encode(id);
    offsetLane(bytes, out, 0);
    skipLane(bytes, out, 2);
  };
}

/** A pluggable hash as a {@link HashInto}, its result checked. */
function hashInto(hash: Hash128): HashInto {
  return (id, out) => {
    const h = hash(id);
    if (h.length < 4 || !isU32(h[0]) || !isU32(h[1]) || !isU32(h[2]) || !isU32(h[3])) throw new InvalidHashError(id);
    out[0] = h[0];
    out[1] = h[1];
    out[2] = h[2];
    out[3] = h[3];
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

/** Per-backend state of one population (backends with weight > 0, in id order). */
interface Turns {
  /** Index in the backend list. */
  readonly live: Int32Array;
  /** The slot the backend claimed last (its first preference before it claims). */
  readonly next: Int32Array;
  readonly skip: Int32Array;
  readonly weight: Float64Array;
  readonly credit: Float64Array;
}

/** Backends an instance keeps work space for (more: allocated per build). */
const KEPT_TURNS = 256;

function createTurns(n: number): Turns {
  return { live: new Int32Array(n), next: new Int32Array(n), skip: new Int32Array(n), weight: new Float64Array(n), credit: new Float64Array(n) };
}

/**
 * Population (Maglev paper §3.4, weights as turn frequency) of `slots` (M entries, all -1)
 * for `backends` (sorted by id, validated): see {@link createMaglev}.
 */
function populate(backends: readonly Backend[], slots: Int32Array, hash: HashInto, words: Uint32Array, turns: Turns): void {
  const m = slots.length;
  const { live, next, skip, weight, credit } = turns;
  let liveCount = 0;
  let maxWeight = 0;
  for (let i = 0; i < backends.length; i++) {
    const b = backends[i]!;
    if (b.weight === 0) continue;
    hash(b.id, words);
    next[liveCount] = mod64(words[1]!, words[0]!, m);
    skip[liveCount] = mod64(words[3]!, words[2]!, m - 1) + 1;
    weight[liveCount] = b.weight;
    credit[liveCount] = 0;
    live[liveCount] = i;
    if (b.weight > maxWeight) maxWeight = b.weight;
    liveCount++;
  }
  let filled = liveCount === 0 ? m : 0;
  while (filled < m) {
    for (let k = 0; k < liveCount; k++) {
      const c0 = credit[k]! + weight[k]!;
      if (c0 < maxWeight) {
        credit[k] = c0;
        continue;
      }
      credit[k] = c0 - maxWeight;
      // c + skip mod M with no branch (it would mispredict about every other probe).
      let c = next[k]!;
      const back = skip[k]! - m;
      while (slots[c]! >= 0) {
        c += back;
        c += m & (c >> 31);
      }
      slots[c] = live[k]!;
      next[k] = c;
      if (++filled === m) break;
    }
  }
}

/**
 * Creates a validated Maglev instance (no module state; each instance owns its hash and
 * the work space it reuses from one build to the next).
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
  const hash = options.hash === undefined ? createSipHash128Into() : hashInto(options.hash);
  const words = new Uint32Array(4);
  // Kept work space, unless a build is under way (a pluggable hash may build from inside one).
  let kept: { readonly turns: Turns; slots: Int32Array | undefined } | undefined;
  let busy = false;

  /** Populates `slots` (all -1) for sorted, validated `backends`. */
  function run(backends: readonly Backend[], slots: Int32Array): void {
    if (busy || backends.length > KEPT_TURNS) {
      populate(backends, slots, hash, new Uint32Array(4), createTurns(backends.length));
      return;
    }
    busy = true;
    try {
      kept ??= { turns: createTurns(KEPT_TURNS), slots: undefined };
      populate(backends, slots, hash, words, kept.turns);
    } finally {
      busy = false;
    }
  }

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
    const slots = new Int32Array(m).fill(-1);
    run(backends, slots);

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

  function fillSlots(backends: readonly Backend[], out: Int32Array | Uint16Array | Uint8Array): void {
    validateSorted(backends);
    const n = backends.length;
    if (m <= n) throw new TableTooSmallError(m, n);
    if (out.length !== m) throw new RangeError(`out holds ${out.length} slots, the table ${m}`);
    const largest = out instanceof Uint8Array ? 0xff : out instanceof Uint16Array ? 0xffff : 0x7fffffff;
    if (n - 1 > largest) throw new RangeError(`${n} backends: indices do not fit in ${out.constructor.name}`);
    if (out instanceof Int32Array) {
      out.fill(-1);
      run(backends, out);
      return;
    }
    let slots: Int32Array;
    if (busy) slots = new Int32Array(m);
    else {
      kept ??= { turns: createTurns(KEPT_TURNS), slots: undefined };
      slots = kept.slots ??= new Int32Array(m);
    }
    slots.fill(-1);
    run(backends, slots);
    out.set(slots);
  }

  return Object.freeze({ tableSize: m, build, fillSlots });
}

/** {@link fillSlots}' input check: validateBackends for a list already in build's order. */
function validateSorted(backends: readonly Backend[]): void {
  if (!Array.isArray(backends)) throw new InvalidBackendError(-1, 'backends must be an array');
  for (let i = 0; i < backends.length; i++) {
    const b = backends[i];
    if (b === null || typeof b !== 'object') throw new InvalidBackendError(i, 'not an object');
    if (typeof b.id !== 'string' || b.id.length === 0) throw new InvalidBackendError(i, 'id must be a non-empty string');
    if (!Number.isInteger(b.weight) || b.weight < 0 || b.weight > MAX_WEIGHT) {
      throw new InvalidBackendError(i, `weight must be an integer in 0..${MAX_WEIGHT}, got ${String(b.weight)}`);
    }
    if (i > 0 && !((backends[i - 1] as Backend).id < b.id)) throw new InvalidBackendError(i, 'ids must be ascending (code-unit order), with no repeats');
  }
}
