/**
 * A model of the Linux IPVS Maglev scheduler, net/netfilter/ipvs/ip_vs_mh.c (as in 6.1),
 * for a 64-bit little-endian kernel (x86-64, arm64). Facts carried over from that file:
 *
 * - Table size M = primes[CONFIG_IP_VS_MH_TAB_INDEX − 8] over the prime list below;
 *   "TAB_BITS" = CONFIG_IP_VS_MH_TAB_INDEX / 2 (integer division) bounds the turns.
 * - Two hsiphash keys fixed at service creation (`generate_hash_secret`), not random:
 *   hash1 = {2654435761, 2654435761}, hash2 = {2654446892, 2654446892}.
 * - `ip_vs_mh_hashkey(af, addr, port, key, offset)` hashes ONE host-order u32:
 *   v = offset + ntohs(port) + ntohl(fold(addr)) (mod 2³²), fold = the IPv4 word, or the
 *   XOR of the four IPv6 words when the *service* is AF_INET6; result = hsiphash(&v, 4, key).
 * - Per destination, in list order: offset = hashkey(dest, hash1) mod M,
 *   skip = hashkey(dest, hash2) mod (M − 1) + 1, with dest port and offset 0.
 * - gcd over last_weight > 0; rshift = max(0, fls(max last_weight / gcd) − TAB_BITS);
 *   turns = ((last_weight / gcd) >> rshift) or, when that is 0, (last_weight ≠ 0).
 * - Population: passes over the list; in each pass every destination with turns ≥ 1 claims
 *   `turns` slots one after the other, each the next free slot of its permutation; stop as
 *   soon as all M slots are owned. No destination with turns ≥ 1 → every slot empty.
 * - Scheduling hashes the client address (and the client port with mh-port, else port 0)
 *   under hash1 with offset 0; the slot's destination is used unless it is unavailable
 *   (weight ≤ 0 or overloaded). Without mh-fallback an unavailable pick drops the packet.
 *   With mh-fallback, for i = 0 … M−1 the slot hashkey(client, hash1, (ihash + i) mod M)
 *   mod M is tried; the first available destination wins; an empty slot ends the search.
 * - More destinations than M: the kernel rejects the change with EINVAL.
 */
import { type AddressFamily, foldAddress, parseAddress, type ParsedAddress } from './address.js';
import {
  AddressFamilyMismatchError,
  InvalidDestinationError,
  InvalidTabIndexError,
  TooManyDestinationsError,
} from './errors.js';
import { createHsiphash1u32, type SipHashKey } from './siphash.js';

/** The kernel's `primes[]`, indexed by CONFIG_IP_VS_MH_TAB_INDEX − 8. */
export const MH_PRIMES: readonly number[] = Object.freeze([251, 509, 1021, 2039, 4093, 8191, 16381, 32749, 65521, 131071]);

/** The kernel's fallback when CONFIG_IP_VS_MH_TAB_INDEX is not defined (and Kconfig's default). */
export const MH_DEFAULT_TAB_INDEX = 12;

/** `generate_hash_secret`: the fixed hsiphash key for offsets and client lookups. */
export const MH_HASH1_KEY: SipHashKey = Object.freeze([2654435761n, 2654435761n] as const);
/** `generate_hash_secret`: the fixed hsiphash key for skips. */
export const MH_HASH2_KEY: SipHashKey = Object.freeze([2654446892n, 2654446892n] as const);

const INT_MAX = 0x7fffffff;

export interface MhDestination {
  readonly address: string;
  readonly port: number;
  /** Current weight; 0 (or less) = unavailable for new connections. */
  readonly weight: number;
  /**
   * The kernel's `last_weight`: the weight at creation, then the last non-zero weight set.
   * Defaults to `weight`. Must equal `weight` when `weight` is not 0 (kernel invariant).
   */
  readonly lastWeight?: number;
  /** IP_VS_DEST_F_OVERLOAD (upper connection threshold reached): unavailable. */
  readonly overloaded?: boolean;
}

export interface MhService {
  readonly af: AddressFamily;
  readonly schedulerFlags: { readonly mhPort: boolean; readonly mhFallback: boolean };
  /** In kernel list order (= GET_DEST dump order; newest insert first). */
  readonly destinations: readonly MhDestination[];
}

export interface MhOptions {
  /** CONFIG_IP_VS_MH_TAB_INDEX, 8..17; default 12 (M = 4093). See readKernelMhConfig. */
  readonly tabIndex?: number;
}

export interface MhExplanation {
  /** Index into `service.destinations`. */
  readonly index: number;
  readonly destination: MhDestination;
  /** The table slot the destination was taken from. */
  readonly slot: number;
  /** 0 = first choice; k = found on the k-th fallback probe (mh-fallback only). */
  readonly fallbackProbes: number;
}

export interface KernelMhModel {
  readonly tabIndex: number;
  readonly tableSize: number;
  readonly gcd: number;
  readonly rshift: number;
  /** Per destination (list order): start offset, skip and turns as the kernel computes them. */
  readonly offsets: Int32Array;
  readonly skips: Int32Array;
  readonly turns: Int32Array;
  /** Destination index per slot; -1 = empty (only when no destination has last_weight > 0). */
  readonly table: Int32Array;
  /** `ip_vs_mh_schedule` for a client: the chosen destination, or null = dropped. */
  explain(clientIp: string, clientPort?: number): MhExplanation | null;
}

/** M for a CONFIG_IP_VS_MH_TAB_INDEX value. */
export function mhTableSize(tabIndex: number = MH_DEFAULT_TAB_INDEX): number {
  const m = Number.isInteger(tabIndex) ? MH_PRIMES[tabIndex - 8] : undefined;
  if (m === undefined) throw new InvalidTabIndexError(tabIndex);
  return m;
}

/** `address:port` (IPv4) or `[address]:port` (IPv6), as a stable destination key. */
export function destinationKey(d: Pick<MhDestination, 'address' | 'port'>): string {
  return d.address.includes(':') ? `[${d.address}]:${d.port}` : `${d.address}:${d.port}`;
}

function isWeight(x: unknown): x is number {
  return typeof x === 'number' && Number.isInteger(x) && x >= 0 && x <= INT_MAX;
}

function isPort(x: unknown): x is number {
  return typeof x === 'number' && Number.isInteger(x) && x >= 0 && x <= 0xffff;
}

/** Most significant set bit, 1-based; fls(0) = 0. */
function fls(x: number): number {
  return x === 0 ? 0 : 32 - Math.clz32(x);
}

function gcd(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b];
  return a;
}

/**
 * Builds the kernel's state for a service: permutation parameters, turns and the lookup
 * table, exactly as `ip_vs_mh_dest_changed` → `ip_vs_mh_reassign` leaves them.
 *
 * @throws InvalidTabIndexError, InvalidAddressError, InvalidDestinationError, TooManyDestinationsError
 */
export function kernelMh(service: MhService, options: MhOptions = {}): KernelMhModel {
  const tabIndex = options.tabIndex ?? MH_DEFAULT_TAB_INDEX;
  const m = mhTableSize(tabIndex);
  const tabBits = Math.trunc(tabIndex / 2);
  const af = service.af;
  if (af !== 'inet' && af !== 'inet6') throw new InvalidDestinationError(-1, `service af must be 'inet' or 'inet6'`);
  const dests = service.destinations;
  const n = dests.length;
  if (n > m) throw new TooManyDestinationsError(n, m);

  const lastWeights = new Int32Array(n);
  const folded = new Uint32Array(n);
  dests.forEach((d, i) => {
    if (!isPort(d.port)) throw new InvalidDestinationError(i, `port must be an integer in 0..65535`);
    if (!isWeight(d.weight)) throw new InvalidDestinationError(i, `weight must be an integer in 0..${INT_MAX}`);
    const lw = d.lastWeight ?? d.weight;
    if (!isWeight(lw)) throw new InvalidDestinationError(i, `lastWeight must be an integer in 0..${INT_MAX}`);
    if (d.weight !== 0 && lw !== d.weight) {
      throw new InvalidDestinationError(i, `lastWeight (${lw}) must equal weight (${d.weight}) when weight is not 0`);
    }
    lastWeights[i] = lw;
    folded[i] = foldAddress(parseAddress(d.address), af);
  });

  // ip_vs_mh_gcd_weight / ip_vs_mh_shift_weight
  let g = 0;
  let maxLw = 0;
  for (let i = 0; i < n; i++) {
    const lw = lastWeights[i]!;
    if (lw > 0) g = g > 0 ? gcd(lw, g) : lw;
    if (lw > maxLw) maxLw = lw;
  }
  const rshift = g < 1 ? 0 : Math.max(0, fls(Math.trunc(maxLw / g)) - tabBits);

  const hash1 = createHsiphash1u32(MH_HASH1_KEY);
  const hash2 = createHsiphash1u32(MH_HASH2_KEY);
  const hashkey = (hash: (v: number) => number, fold: number, port: number, offset: number): number =>
    hash((offset + port + fold) >>> 0);

  // ip_vs_mh_permutate
  const offsets = new Int32Array(n);
  const skips = new Int32Array(n);
  const turns = new Int32Array(n);
  if (g >= 1) {
    for (let i = 0; i < n; i++) {
      const d = dests[i]!;
      offsets[i] = hashkey(hash1, folded[i]!, d.port, 0) % m;
      skips[i] = (hashkey(hash2, folded[i]!, d.port, 0) % (m - 1)) + 1;
      const lw = lastWeights[i]!;
      turns[i] = Math.trunc(lw / g) >> rshift || (lw !== 0 ? 1 : 0);
    }
  }

  // ip_vs_mh_populate
  const table = new Int32Array(m).fill(-1);
  if (g >= 1) {
    const perm = offsets.slice();
    const taken = new Uint8Array(m);
    let filled = 0;
    populate: for (;;) {
      for (let i = 0; i < n; i++) {
        for (let t = turns[i]!; t > 0; t--) {
          let c = perm[i]!;
          while (taken[c] === 1) {
            c += skips[i]!;
            if (c >= m) c -= m;
          }
          perm[i] = c;
          taken[c] = 1;
          table[c] = i;
          if (++filled === m) break populate;
        }
      }
    }
  }

  const unavailable = (i: number): boolean => {
    const d = dests[i]!;
    return d.weight <= 0 || d.overloaded === true;
  };

  function explain(clientIp: string, clientPort?: number): MhExplanation | null {
    const client: ParsedAddress = parseAddress(clientIp);
    if (client.family !== af) throw new AddressFamilyMismatchError(clientIp, af);
    if (clientPort !== undefined && !isPort(clientPort)) {
      throw new InvalidDestinationError(-1, `client port must be an integer in 0..65535`);
    }
    // ip_vs_mh_get_port gives 0 for protocols without ports; we take "no port given" as that.
    const port = service.schedulerFlags.mhPort ? (clientPort ?? 0) : 0;
    const fold = foldAddress(client, af);
    const ihash = hashkey(hash1, fold, port, 0) % m;
    const first = table[ihash]!;
    if (first < 0) return null;
    if (!unavailable(first)) return { index: first, destination: dests[first]!, slot: ihash, fallbackProbes: 0 };
    if (!service.schedulerFlags.mhFallback) return null;
    for (let offset = 0; offset < m; offset++) {
      const roffset = (offset + ihash) % m;
      const slot = hashkey(hash1, fold, port, roffset) % m;
      const i = table[slot]!;
      if (i < 0) return null;
      if (!unavailable(i)) return { index: i, destination: dests[i]!, slot, fallbackProbes: offset + 1 };
    }
    return null;
  }

  return Object.freeze({ tabIndex, tableSize: m, gcd: g, rshift, offsets, skips, turns, table, explain });
}

/** The kernel's lookup table for a service (destination index per slot, -1 = empty). */
export function kernelMhTable(service: MhService, options: MhOptions = {}): Int32Array {
  return kernelMh(service, options).table;
}

/**
 * Which destination the kernel's mh scheduler picks for a client, or null if it drops the
 * packet. Builds the table on every call; use {@link kernelMh} to probe many clients.
 */
export function explain(service: MhService, clientIp: string, clientPort?: number, options: MhOptions = {}): MhExplanation | null {
  return kernelMh(service, options).explain(clientIp, clientPort);
}

/**
 * `ip_vs_mh_hashkey` on its own (before `mod M`), for tests and debugging: the 32-bit
 * hsiphash of (offset + port + fold(address)) under hash1 or hash2.
 */
export function mhHashkey(af: AddressFamily, address: string, port: number, key: 'hash1' | 'hash2', offset = 0): number {
  const hash = createHsiphash1u32(key === 'hash1' ? MH_HASH1_KEY : MH_HASH2_KEY);
  return hash((offset + port + foldAddress(parseAddress(address), af)) >>> 0);
}
